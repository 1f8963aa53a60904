import type { Observable } from 'rxjs';
import type { SourceBatch } from '../../batch/batch.js';
import { genContext, genSerialized } from '../../export/data-gen.js';
import type { ParserArgs } from '../../export/parser-args.js';
import type { ParseConfig, RecordVariant } from '../parse/parse-config.js';
import { RecordParser, type DecoderKind } from '../parse/record-parser.js';
import { pacedSource, type PacingOptions } from './paced-source.js';
import { RecordBatcher } from './record-batcher.js';

export interface GeneratorSourceOptions extends PacingOptions {
  /** Called on each subscription: the serialized records to parse. */
  records: () => Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
  variant: RecordVariant;
  parse: ParseConfig;
  batchSize: number;
  decoder?: DecoderKind;
}

/** Batches from generated serialized records (synthetic streams, tests, demos). */
export function generatorSource(opts: GeneratorSourceOptions): Observable<SourceBatch> {
  const parser = new RecordParser(opts.parse, { variant: opts.variant, decoder: opts.decoder });
  new RecordBatcher(parser, opts.batchSize); // validates batchSize up front
  return pacedSource(async function* () {
    const batcher = new RecordBatcher(new RecordParser(opts.parse, { variant: opts.variant, decoder: opts.decoder }), opts.batchSize);
    let index = 0;
    for await (const rec of opts.records()) {
      for (const batch of batcher.add(rec, { file: `<generated record ${index++}>` })) yield { batch };
    }
    const last = batcher.flush();
    if (last) yield { batch: last };
  }, opts);
}

/** `count` records from Monolith's data generators (data_gen_utils), seeded. */
export function* dataGenRecords(args: ParserArgs, opts: { seed: number; count: number; now?: () => number }): Generator<Uint8Array> {
  const ctx = genContext(opts.seed, { now: opts.now });
  for (let i = 0; i < opts.count; i++) yield genSerialized(ctx, args);
}
