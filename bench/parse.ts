// Parsing throughput: serialized Instance / Example / ExampleBatch records → columnar Batch.
// Baselines in the same run: protobufjs decode alone, and protobufjs decode + conversion
// into the Batch (the reference path). The fast path walks the wire bytes directly.
//
//   node dist/bench/parse.js        # table on stdout and in bench/RESULTS-parse.md
//
// `run(opts)` is exported for bench/run-all.ts.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { genContext, genExample, genExampleBatch, genInstance } from '../src/export/data-gen.js';
import { FeatureMeta } from '../src/export/feature-meta.js';
import { monolith, parser } from '../src/proto.js';
import type { ParseConfig, RecordVariant } from '../src/streams/parse/parse-config.js';
import { RecordParser } from '../src/streams/parse/record-parser.js';
import { machineInfo } from './formats.js';

export interface ParseBenchOptions {
  /** Distinct records cycled through (ExampleBatch: records of `batchSize` rows). Default 20_000 rows. */
  poolRows?: number;
  /** Rows per parse call. Default 256. */
  batchSize?: number;
  /** Measured seconds per method and variant, split over `rounds` interleaved rounds. Default 1.5. */
  seconds?: number;
  rounds?: number;
  /** Where to write the markdown; null to skip. Default <project>/bench/RESULTS-parse.md. */
  resultsPath?: string | null;
  progress?: boolean;
  seed?: number;
}

interface Row {
  variant: RecordVariant;
  method: string;
  rowsPerSec: number;
  mbPerSec: number;
}

const SLOTS = Array.from({ length: 26 }, (_, i) => i + 1);
const DENSE = Array.from({ length: 13 }, (_, i) => new FeatureMeta(`I${i + 1}`, { shape: 1, dtype: 'float32' }));
const V2_NAMES = SLOTS.map((s) => `C${s}`);

function workload(variant: RecordVariant, poolRows: number, batchSize: number, seed: number): { records: Uint8Array[]; config: ParseConfig; rowsPerRecord: number } {
  const ctx = genContext(seed, { now: () => 1_700_000_000 });
  const dense = DENSE.map((d) => ({ name: d.name, width: 1 }));
  const lineIdFields = ['uid', 'req_time', 'sample_rate'] as const;
  if (variant === 'instance') {
    const records = Array.from({ length: poolRows }, () => parser.proto.Instance.encode(genInstance(ctx, { fidv1Features: SLOTS, dense: DENSE })).finish());
    return { records, rowsPerRecord: 1, config: { sparse: SLOTS.map((s) => ({ name: `slot_${s}`, slot: s })), dense, lineIdFields: [...lineIdFields] } };
  }
  const config: ParseConfig = { sparse: V2_NAMES.map((name, i) => ({ name, slot: i + 1 })), dense, lineIdFields: [...lineIdFields] };
  if (variant === 'example') {
    const records = Array.from({ length: poolRows }, () => monolith.io.proto.Example.encode(genExample(ctx, V2_NAMES, { dense: DENSE })).finish());
    return { records, rowsPerRecord: 1, config };
  }
  const records = Array.from({ length: Math.max(1, Math.round(poolRows / batchSize)) }, () => monolith.io.proto.ExampleBatch.encode(genExampleBatch(ctx, V2_NAMES, batchSize, { dense: DENSE })).finish());
  return { records, rowsPerRecord: batchSize, config };
}

const decodeOnly: Record<RecordVariant, (b: Uint8Array) => unknown> = {
  instance: (b) => parser.proto.Instance.decode(b),
  example: (b) => monolith.io.proto.Example.decode(b),
  example_batch: (b) => monolith.io.proto.ExampleBatch.decode(b),
};

export async function run(opts: ParseBenchOptions = {}): Promise<{ rows: Row[]; markdown: string }> {
  const poolRows = opts.poolRows ?? 20_000;
  const batchSize = opts.batchSize ?? 256;
  const seconds = opts.seconds ?? 1.5;
  const rounds = opts.rounds ?? 3;
  const progress = opts.progress ?? true;
  const rows: Row[] = [];
  let sink = 0;
  for (const variant of ['instance', 'example', 'example_batch'] as RecordVariant[]) {
    const { records, config, rowsPerRecord } = workload(variant, poolRows, batchSize, opts.seed ?? 1);
    const perCall = Math.max(1, Math.round(batchSize / rowsPerRecord));
    const fast = new RecordParser(config, { variant });
    const ref = new RecordParser(config, { variant, decoder: 'reference' });
    const methods: [string, (recs: Uint8Array[]) => void][] = [
      ['protobufjs decode only', (recs) => recs.forEach((r) => (sink += (decodeOnly[variant](r) ? 1 : 0)))],
      ['protobufjs decode + convert (reference)', (recs) => (sink += ref.parse(recs).rows)],
      ['fast wire decoder', (recs) => (sink += fast.parse(recs).rows)],
    ];
    const totals = methods.map(() => ({ rows: 0, bytes: 0, secs: 0 }));
    let at = 0;
    const next = (): Uint8Array[] => {
      const out: Uint8Array[] = [];
      for (let i = 0; i < perCall; i++) out.push(records[at++ % records.length]!);
      return out;
    };
    for (const [, fn] of methods) for (let i = 0; i < 20; i++) fn(next()); // warm-up
    for (let round = 0; round < rounds; round++) {
      methods.forEach(([, fn], m) => {
        const t0 = process.hrtime.bigint();
        const deadline = t0 + BigInt(Math.round((seconds / rounds) * 1e9));
        let now = t0;
        while (now < deadline) {
          const recs = next();
          fn(recs);
          totals[m]!.rows += recs.length * rowsPerRecord;
          totals[m]!.bytes += recs.reduce((s, r) => s + r.length, 0);
          now = process.hrtime.bigint();
        }
        totals[m]!.secs += Number(now - t0) / 1e9;
      });
    }
    methods.forEach(([method], m) => {
      const tt = totals[m]!;
      rows.push({ variant, method, rowsPerSec: tt.rows / tt.secs, mbPerSec: tt.bytes / 1e6 / tt.secs });
    });
    if (progress) process.stderr.write(`bench parse: ${variant} done\n`);
  }
  if (sink < 0) console.log(sink);
  const markdown = render(rows, { poolRows, batchSize, seconds, rounds });
  if (opts.resultsPath !== null) {
    const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
    writeFileSync(opts.resultsPath ?? join(root, 'bench', 'RESULTS-parse.md'), markdown);
  }
  return { rows, markdown };
}

function render(rows: Row[], o: { poolRows: number; batchSize: number; seconds: number; rounds: number }): string {
  const out = [
    '# Parsing: serialized records → columnar Batch',
    '',
    `Machine: ${JSON.stringify(machineInfo())}. ${o.poolRows} distinct rows cycled, ${o.batchSize} rows per parse call, ${o.seconds}s per method in ${o.rounds} interleaved rounds.`,
    'Rows: 26 sparse slots (Instance: fid v1 in `fid`, 0–3 ids per slot; Example / ExampleBatch: fid_v2_list per named feature), 13 dense width-1 features, a label, LineId uid / req_time / sample_rate kept.',
    '"speed-up" is against protobufjs decode + convert, measured in the same run.',
    '',
    '| variant | method | rows/s | MB/s | speed-up |',
    '| --- | --- | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    const base = rows.find((x) => x.variant === r.variant && x.method.includes('reference'))!;
    out.push(`| ${r.variant} | ${r.method} | ${Math.round(r.rowsPerSec).toLocaleString('en-US')} | ${r.mbPerSec.toFixed(1)} | ${(r.rowsPerSec / base.rowsPerSec).toFixed(2)}× |`);
  }
  return `${out.join('\n')}\n`;
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const { markdown } = await run();
  process.stdout.write(markdown);
}
