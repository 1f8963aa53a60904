export { RecordParser, type DecoderKind, type RecordParserOptions } from './record-parser.js';
export { resolveParseConfig, INVALID_LABEL, LINE_ID_FIELDS, type ParseConfig, type ResolvedParseConfig, type RecordVariant, type SparseFeatureSpec, type DenseFeatureSpec, type LineIdField } from './parse-config.js';
export { BatchBuilder } from './batch-builder.js';
export { FastDecoder, type RecordOrigin } from './fast-decoder.js';
export { ReferenceDecoder } from './reference-decoder.js';
export { sliceBatch, concatBatches } from './batch-ops.js';
export { workerRecordParser, createRecordParser, type WorkerRecordParserOptions } from './worker-record-parser.js';
