import type { Batch } from '../batch/batch.js';
import { ConfigError } from '../errors.js';

/**
 * Where a thread finds the parser of serialized records, for pipelines whose
 * workers parse their own batches: a module exporting
 * `createRecordParser(options)` (as `monolith-ts/parse` does via `workerRecordParser`).
 */
export interface RecordParserRef {
  /** file: URL (or any URL `import()` accepts) of the module. */
  url: string;
  options?: Record<string, unknown>;
}

/** Where the records of a batch come from, for errors: a file and each record's byte offset, or a name per record. */
export interface RecordsOrigin {
  file?: string;
  offsets?: readonly number[];
  origins?: readonly string[];
}

/** What `createRecordParser` returns: records (with where they come from, for errors) → one Batch. */
export interface BatchRecordParser {
  parseRecords(records: readonly Uint8Array[], origin?: RecordsOrigin): Batch;
}

/** Imports the parser module and builds the parser; errors name the module. */
export async function loadRecordParser(ref: RecordParserRef): Promise<BatchRecordParser> {
  let mod: { createRecordParser?: (o: Record<string, unknown>) => BatchRecordParser | Promise<BatchRecordParser> };
  try {
    mod = (await import(ref.url)) as typeof mod;
  } catch (err) {
    throw new ConfigError(`record parser module ${ref.url} cannot be imported: ${(err as Error).message}`, { cause: err });
  }
  if (typeof mod.createRecordParser !== 'function') throw new ConfigError(`record parser module ${ref.url} does not export createRecordParser(options)`);
  return await mod.createRecordParser(ref.options ?? {});
}
