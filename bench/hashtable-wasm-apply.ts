/**
 * What a WebAssembly core would gain on Adagrad apply (op b, all hits): the
 * prototype kernel `applyAdagrad` of wasm/table-kernels.ts (probe, in-batch
 * dedup with float32 gradient sums, Adagrad in float64x2 SIMD) over a copy of
 * each shard in a shared WebAssembly.Memory, next to the TypeScript core's
 * applyGradients on the same table and batches, interleaved A B A B; both
 * copies get the same updates and are checked bit-identical (embeddings,
 * accumulators, update times) after every phase.
 *
 *   node dist/bench/hashtable-wasm-apply.js [--sizes=1e5,1e6] [--dims=16] [--batches=64] [--repeat=5] [--quick] [--no-native]
 *
 * "wasm" does every per-key step in wasm: the batch's ids and gradients are
 * copied into a per-thread batch memory, laid out by shard there, and copied
 * (one memcpy per shard each) into each shard's memory for the kernel.
 * "C++ (b)" is the native reference's Adagrad apply (with inserts, so a
 * slightly harder workload), one process per repetition.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { EmbeddingHashTable } from '../src/hashtable/embedding-hash-table.js';
import { batchArea, DEDUP_LOG2, mirror } from './hashtable-wasm-kernel.js';
import { nativeRef, runNative } from './hashtable.js';
import { BATCH, wordsOfRanks, zipfRanks } from './hashtable-workload.js';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1]!;
const spread = (xs: number[]): string => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`;
const LR = 0.01;
const NOW = 1_700_000_000;

export function run(size: number, dim: number, batches: number, repeat: number, nativeBin?: string): string {
  const table = EmbeddingHashTable.create(
    {
      entry: { segments: [{ dimSize: dim, initConfig: { randomUniform: {} }, optConfig: { adagrad: { learningRate: LR, initialAccumulatorValue: 0.1 } } }] },
      shards: 16,
      initialCapacity: size,
    },
    { clock: () => NOW },
  );
  const fill = wordsOfRanks(Float64Array.from({ length: size }, (_, i) => i));
  for (let o = 0; o < fill.length; o += BATCH * 2) table.lookup(fill.subarray(o, o + BATCH * 2));
  const L = table.layout;
  const st = L.stride;
  const mirrors = table.shards.map((sh) => mirror(sh.index, sh.capacity, sh.log2, sh.f32, sh.size * st, dim));
  const ids = wordsOfRanks(zipfRanks(batches * BATCH, size, 1.05, 9));
  const grads = Float32Array.from({ length: BATCH * dim }, (_, i) => Math.sin(i) * 0.1);
  const area = batchArea(dim, mirrors.length);
  let epoch = 0;
  const wasmApply = (w: Uint32Array): void => {
    const n = w.length >>> 1;
    area.ids.set(w);
    area.k.partitionKeys(0, n, mirrors.length, area.at.keys, area.at.starts, area.at.fill);
    area.out.set(grads.subarray(0, n * dim));
    area.k.gatherRows(area.at.out, area.at.keys, n, dim * 4, area.at.rows);
    const starts = area.starts;
    epoch++;
    for (let s = 0; s < mirrors.length; s++) {
      const from = starts[s]!;
      const cnt = starts[s + 1]! - from;
      if (cnt === 0) continue;
      const m = mirrors[s]!;
      m.keys.set(area.keys.subarray(4 * from, 4 * (from + cnt)));
      m.out.set(area.rows.subarray(from * dim, (from + cnt) * dim));
      m.k.applyAdagrad(m.at.keys, cnt, m.at.index, m.log2, m.at.rows, st * 4, dim, L.segments[0]!.stateAt * 4, L.tsWord * 4, NOW, m.at.out, LR, m.at.dedup, DEDUP_LOG2, epoch, m.at.rowsOut, m.at.gsum, m.at.sink);
    }
  };
  const check = (when: string): void => {
    table.shards.forEach((sh, s) => {
      const words = sh.size * st;
      const a = Buffer.from(sh.f32.buffer, 0, words * 4);
      const m = mirrors[s]!.rows;
      const b = Buffer.from(m.buffer, m.byteOffset, words * 4);
      if (Buffer.compare(a, b) !== 0) throw new Error(`${when}: shard ${s}: the wasm apply's rows differ from the TypeScript core's`);
    });
  };
  const each = (fn: (w: Uint32Array) => void): number => {
    const t0 = performance.now();
    for (let b = 0; b < batches; b++) fn(ids.subarray(b * BATCH * 2, (b + 1) * BATCH * 2));
    return (batches * BATCH) / (performance.now() - t0) / 1000;
  };
  const ts: number[] = [];
  const wa: number[] = [];
  const cpp: number[] = [];
  for (let r = 0; r < repeat; r++) {
    ts.push(each((w) => table.applyGradients(w, grads)));
    wa.push(each(wasmApply));
    check(`repetition ${r + 1}`);
    const ref = nativeBin ? runNative(nativeBin, dim, size, 1, batches) : undefined;
    if (ref) cpp.push(ref.b);
  }
  const vsCpp = (x: number[]): string => (cpp.length ? (median(x) / median(cpp)).toFixed(2) : 'n/a');
  return `| ${size.toExponential(0)} | ${dim} | ${cpp.length ? `${median(cpp).toFixed(1)} (${spread(cpp)})` : 'n/a'} | ${median(ts).toFixed(2)} (${spread(ts)}) | ${median(wa).toFixed(2)} (${spread(wa)}) | ${(median(wa) / median(ts)).toFixed(2)} | ${vsCpp(ts)} | ${vsCpp(wa)} |`;
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const quick = args.includes('--quick');
  const sizes = (opt('sizes') ?? (quick ? '1e5' : '1e5,1e6')).split(',').map(Number);
  const dims = (opt('dims') ?? '16').split(',').map(Number);
  const batches = Number(opt('batches') ?? (quick ? 32 : 64));
  const repeat = Number(opt('repeat') ?? (quick ? 3 : 5));
  const bin = args.includes('--no-native') ? undefined : nativeRef('/work/shared/bench-ref');
  process.stdout.write('| N | dim | C++ (b) | TS apply | wasm apply | wasm / TS | TS / C++ | wasm / C++ |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n');
  for (const size of sizes) for (const dim of dims) process.stdout.write(run(size, dim, batches, repeat, bin) + '\n');
}
