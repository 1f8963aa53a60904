/**
 * The parser a pipeline's worker threads import to parse the records of a
 * RecordInput themselves (`parseInWorkers`): the input's parse config and
 * variant, then its dense groups — what recordFileBatches does on the main thread.
 */
import type { Batch } from '../../batch/batch.js';
import type { BatchRecordParser, RecordParserRef } from '../../workers/record-parser-ref.js';
import { createRecordParser as createWorkerParser } from '../parse/worker-record-parser.js';
import { groupDense, type RecordInput } from './record-input.js';

/** The reference to pass as `parseInWorkers` for records described by `input`. */
export function recordInputParser(input: RecordInput): RecordParserRef {
  return { url: new URL('./record-input-parser.js', import.meta.url).href, options: { input: input as unknown as Record<string, unknown> } };
}

export function createRecordParser(options: Record<string, unknown>): BatchRecordParser {
  const input = options.input as unknown as RecordInput;
  const parser = createWorkerParser({ config: input.parse, variant: input.variant });
  return {
    parseRecords: (records, origin): Batch => groupDense(parser.parseRecords(records, origin), input.denseGroups),
  };
}
