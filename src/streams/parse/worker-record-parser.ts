/**
 * The record parser a pipeline's worker threads import when they parse their
 * own batches (`PipelineOptions.parseInWorkers`): `workerRecordParser(config,
 * variant)` names this module and its options; each thread calls
 * `createRecordParser` once.
 */
import type { Batch } from '../../batch/batch.js';
import type { BatchRecordParser, RecordParserRef, RecordsOrigin } from '../../workers/record-parser-ref.js';
import type { ParseConfig, RecordVariant } from './parse-config.js';
import { RecordParser, type DecoderKind } from './record-parser.js';

export interface WorkerRecordParserOptions {
  config: ParseConfig;
  variant: RecordVariant;
  decoder?: DecoderKind;
}

/** The reference to pass as `parseInWorkers`: every worker parses with a RecordParser of `config` and `variant`. */
export function workerRecordParser(config: ParseConfig, variant: RecordVariant, decoder?: DecoderKind): RecordParserRef {
  const options: WorkerRecordParserOptions = { config, variant, ...(decoder ? { decoder } : {}) };
  return { url: new URL('./worker-record-parser.js', import.meta.url).href, options: options as unknown as Record<string, unknown> };
}

export function createRecordParser(options: Record<string, unknown>): BatchRecordParser {
  const o = options as unknown as WorkerRecordParserOptions;
  const parser = new RecordParser(o.config, { variant: o.variant, decoder: o.decoder });
  return {
    parseRecords(records: readonly Uint8Array[], origin?: RecordsOrigin): Batch {
      if (!origin?.offsets && !origin?.origins) return parser.parse(records, origin?.file !== undefined ? { file: origin.file } : undefined);
      const b = parser.newBuilder(records.length);
      const { file, offsets, origins } = origin;
      records.forEach((r, i) => parser.add(b, r, origins ? { file: origins[i], offset: 0 } : { file, offset: offsets![i] }));
      return parser.build(b);
    },
  };
}
