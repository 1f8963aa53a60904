export { pacedSource, DEFAULT_MAX_UNACKED, type PacingOptions } from './paced-source.js';
export { RecordBatcher } from './record-batcher.js';
export { fileSource, fileBatches, type FileSourceOptions, type FileFraming } from './file-source.js';
export { generatorSource, dataGenRecords, type GeneratorSourceOptions } from './generator-source.js';
export { SyntheticCtr, syntheticCtrSource, aucOf, type SyntheticCtrOptions, type SyntheticCtrSourceOptions, type CtrRow } from './synthetic-ctr.js';
export { kafkaSource, type KafkaSourceOptions } from './kafka-source.js';
export { OffsetTracker, type CommitPosition } from './offset-tracker.js';
export { PlantedCtr, type PlantedCtrOptions, type PlantedRow, type PlantedReference } from './planted-ctr.js';
export { writePlantedCtrFile, type PlantedCtrFileOptions } from './planted-ctr-file.js';
