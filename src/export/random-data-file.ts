import { RecordFileWriter, lgHeader, sortHeader } from '../io/record-file.js';
import { genSerialized, metasOf, type GenContext } from './data-gen.js';
import type { ParserArgs } from './parser-args.js';

export interface RandomDataFileOptions {
  /** Batches to write: each is `batchSize` records, or one ExampleBatch record. Default 128. */
  numBatch?: number;
  /** Data source name for the lagrangex header (used when `sortId` is false). */
  source?: string;
  /** Default true: a zero sort-id header (plus kafka headers as asked); false: a lagrangex header. */
  sortId?: boolean;
  kafkaDump?: boolean;
  kafkaDumpPrefix?: boolean;
  /** Called after each batch (progress). */
  onBatch?: (done: number, total: number) => void;
}

/**
 * Monolith's `gen_random_data_file`: a size-prefixed record file of random
 * Instances, Examples or ExampleBatches, written atomically. Returns the record count.
 */
export async function genRandomDataFile(path: string, ctx: GenContext, args: ParserArgs, opts: RandomDataFileOptions = {}): Promise<number> {
  const numBatch = opts.numBatch ?? 128;
  const sortId = opts.sortId ?? true;
  const header = sortId ? sortHeader(true, !!opts.kafkaDump, !!opts.kafkaDumpPrefix) : lgHeader(opts.source);
  const perBatch = args.variantType === 'example_batch' ? 1 : args.batchSize;
  const metas = metasOf(args);
  const w = await RecordFileWriter.open(path, header);
  try {
    for (let b = 0; b < numBatch; b++) {
      for (let r = 0; r < perBatch; r++) await w.write(genSerialized(ctx, args, metas));
      opts.onBatch?.(b + 1, numBatch);
    }
    await w.close();
    return w.records;
  } catch (err) {
    await w.abort();
    throw err;
  }
}
