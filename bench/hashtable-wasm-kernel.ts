/**
 * What a WebAssembly core would gain on lookupOnly (op c): the prototype
 * kernel wasm/table-lookup.ts runs over a copy of each shard's index and rows
 * in a shared WebAssembly.Memory (one per shard, the layout the TypeScript
 * core uses), next to the TypeScript core on the same table and batches,
 * interleaved A B A B. Outputs are checked bit-identical.
 *
 *   node dist/bench/hashtable-wasm-kernel.js [--sizes=1e5,1e6] [--dims=16] [--batches=64] [--repeat=5] [--quick]
 *
 * Three rates (million keys/s): "TS" = EmbeddingHashTable.lookupOnly; "wasm" =
 * the same batch layout (ShardBatch), the slice's keys written into the
 * shard's memory, the kernel (touch, probe, touch, SIMD copy in slice
 * order), the rows scattered back to the caller's array in input order;
 * "kernel only" = the kernel calls alone (what is left if a batch's ids and
 * output already lived in the shard's memory).
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { ShardBatch } from '../src/hashtable/shard-batch.js';
import { instantiateWasm, sharedWasmMemory } from '../src/util/wasm-module.js';
import { adagradTable, BATCH, wordsOfRanks, zipfRanks } from './hashtable-workload.js';

interface Kernel extends WebAssembly.Exports {
  lookupRows(keys: number, n: number, index: number, log2: number, rows: number, strideBytes: number, dimBytes: number, out: number, rowsOut: number): number;
}

interface ShardMirror {
  k: Kernel;
  keys: Int32Array;
  out64: Float64Array;
  at: { keys: number; rowsOut: number; out: number; index: number; rows: number };
  log2: number;
}

function mirror(index: Int32Array, capacity: number, log2: number, rows: Float32Array, usedWords: number, dim: number): ShardMirror {
  const keysB = BATCH * 12;
  const rowsOutB = BATCH * 4;
  const outB = BATCH * dim * 4;
  const at = { keys: 0, rowsOut: keysB, out: keysB + rowsOutB, index: 0, rows: 0 };
  at.index = (at.out + outB + 63) & ~63;
  at.rows = (at.index + capacity * 12 + 63) & ~63;
  const memory = sharedWasmMemory(at.rows + usedWords * 4);
  new Int32Array(memory.buffer, at.index, capacity * 3).set(index.subarray(0, capacity * 3));
  new Float32Array(memory.buffer, at.rows, usedWords).set(rows.subarray(0, usedWords));
  return { k: instantiateWasm<Kernel>('table-lookup', memory), keys: new Int32Array(memory.buffer, at.keys, BATCH * 3), out64: new Float64Array(memory.buffer, at.out, (BATCH * dim) / 2), at, log2 };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1]!;
const spread = (xs: number[]): string => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`;

export function run(size: number, dim: number, batches: number, repeat: number): string {
  const table = adagradTable(dim, size, 16);
  const fill = wordsOfRanks(Float64Array.from({ length: size }, (_, i) => i));
  for (let o = 0; o < fill.length; o += BATCH * 2) table.lookup(fill.subarray(o, o + BATCH * 2));
  const st = table.shards[0]!.stride;
  const mirrors = table.shards.map((sh) => mirror(sh.index, sh.capacity, sh.log2, sh.f32, sh.size * st, dim));
  const ids = wordsOfRanks(zipfRanks(batches * BATCH, size, 1.05, 9));
  const batch = new ShardBatch(table.shards);
  const outTs = new Float32Array(BATCH * dim);
  const outW = new Float32Array(BATCH * dim);
  const outW64 = new Float64Array(outW.buffer);
  const half = dim >>> 1;
  let kernelMs = 0;
  let partMs = 0;
  let keysMs = 0;
  let scatterMs = 0;
  const wasmLookup = (w: Uint32Array, timeKernel: boolean): void => {
    let t = timeKernel ? performance.now() : 0;
    const tick = (): number => {
      const t1 = performance.now();
      const d = t1 - t;
      t = t1;
      return d;
    };
    batch.partition(w);
    if (timeKernel) partMs += tick();
    const packed = batch.packed;
    const starts = batch.starts;
    for (let s = 0; s < mirrors.length; s++) {
      const from = starts[s]!;
      const n = starts[s + 1]! - from;
      if (n === 0) continue;
      const m = mirrors[s]!;
      const keys = m.keys;
      for (let q = 0; q < n; q++) {
        const i = packed[2 * (from + q) + 1]!;
        keys[3 * q] = packed[2 * (from + q)]!;
        keys[3 * q + 1] = w[2 * i]!;
        keys[3 * q + 2] = w[2 * i + 1]!;
      }
      if (timeKernel) keysMs += tick();
      m.k.lookupRows(m.at.keys, n, m.at.index, m.log2, m.at.rows, st * 4, dim * 4, m.at.out, m.at.rowsOut);
      if (timeKernel) kernelMs += tick();
      const o64 = m.out64;
      for (let q = 0; q < n; q++) {
        const o = packed[2 * (from + q) + 1]! * half;
        const a = q * half;
        for (let j = 0; j < half; j++) outW64[o + j] = o64[a + j]!;
      }
      if (timeKernel) scatterMs += tick();
    }
  };
  const each = (fn: (w: Uint32Array) => void): number => {
    const t0 = performance.now();
    for (let b = 0; b < batches; b++) fn(ids.subarray(b * BATCH * 2, (b + 1) * BATCH * 2));
    return (batches * BATCH) / (performance.now() - t0) / 1000;
  };
  // Check: the same bytes out of both paths, for every batch.
  for (let b = 0; b < batches; b++) {
    const w = ids.subarray(b * BATCH * 2, (b + 1) * BATCH * 2);
    table.lookupOnly(w, outTs);
    wasmLookup(w, false);
    if (Buffer.compare(Buffer.from(outTs.buffer), Buffer.from(outW.buffer)) !== 0) throw new Error(`batch ${b}: wasm and TypeScript lookups differ`);
  }
  const ts: number[] = [];
  const wa: number[] = [];
  const ko: number[] = [];
  const ns: number[][] = [[], [], [], []];
  const perKey = (ms: number): number => (ms * 1e6) / (batches * BATCH);
  for (let r = 0; r < repeat; r++) {
    ts.push(each((w) => table.lookupOnly(w, outTs)));
    kernelMs = partMs = keysMs = scatterMs = 0;
    wa.push(each((w) => wasmLookup(w, true)));
    ko.push((batches * BATCH) / kernelMs / 1000);
    [partMs, keysMs, kernelMs, scatterMs].forEach((ms, q) => ns[q]!.push(perKey(ms)));
  }
  const row = `| ${size.toExponential(0)} | ${dim} | ${median(ts).toFixed(1)} (${spread(ts)}) | ${median(wa).toFixed(1)} (${spread(wa)}) | ${(median(wa) / median(ts)).toFixed(2)} | ${median(ko).toFixed(1)} (${spread(ko)}) | ${ns.map((x) => median(x).toFixed(0)).join(' / ')} |`;
  return row;
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
  process.stdout.write('| N | dim | TS lookupOnly | wasm kernel + JS key write + scatter | wasm / TS | kernel only | ns per key: partition / key write / kernel / scatter |\n| --- | --- | --- | --- | --- | --- | --- |\n');
  for (const size of sizes) for (const dim of dims) process.stdout.write(run(size, dim, batches, repeat) + '\n');
}
