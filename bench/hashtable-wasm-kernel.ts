/**
 * What a WebAssembly core would gain on lookupOnly (op c): the prototype
 * kernel wasm/table-kernels.ts runs over a copy of each shard's index and rows
 * in a shared WebAssembly.Memory (one per shard, the layout the TypeScript
 * core uses), next to the TypeScript core on the same table and batches,
 * interleaved A B A B. Outputs are checked bit-identical.
 *
 *   node dist/bench/hashtable-wasm-kernel.js [--sizes=1e5,1e6] [--dims=16] [--batches=64] [--repeat=5] [--quick] [--no-native]
 *
 * Three rates (million keys/s): "TS" = EmbeddingHashTable.lookupOnly; "wasm" =
 * the same batch layout (ShardBatch), the slice's keys written into the
 * shard's memory, the kernel (touch, probe, touch, SIMD copy in slice
 * order), the rows scattered back to the caller's array in input order;
 * "kernel only" = the kernel calls alone (what is left if a batch's ids and
 * output already lived in the shard's memory); "all in wasm" = partition and
 * scatter in wasm too, in a per-thread batch memory, with one memcpy per shard
 * to and from the shard's memory. "C++ (c)" is the native reference's pure
 * lookup (/work/shared/bench-ref, `--table=oa`), one process per repetition,
 * run between the repetitions of the others (A B C A B C).
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { ShardBatch } from '../src/hashtable/shard-batch.js';
import { instantiateWasm, sharedWasmMemory } from '../src/util/wasm-module.js';
import { nativeRef, runNative } from './hashtable.js';
import { adagradTable, BATCH, wordsOfRanks, zipfRanks } from './hashtable-workload.js';

interface Kernel extends WebAssembly.Exports {
  lookupRows(keys: number, n: number, index: number, log2: number, rows: number, strideBytes: number, dimBytes: number, out: number, rowsOut: number): number;
  partitionKeys(ids: number, n: number, nShards: number, keys: number, starts: number, fill: number): void;
  scatterRows(src: number, keys: number, n: number, dimBytes: number, out: number): void;
  gatherRows(src: number, keys: number, n: number, dimBytes: number, out: number): void;
  applyAdagrad(keys: number, n: number, index: number, log2: number, rows: number, strideBytes: number, dim: number, accBytes: number, tsBytes: number, ts: number, grads: number, lr: number, dedup: number, dedupLog2: number, epoch: number, uniq: number, gsum: number, sinkAt: number): number;
}

/** Dedup table size of the apply kernel: 2^13 slots, twice the largest slice. */
export const DEDUP_LOG2 = 13;

/** One thread's batch area: ids in, keys by shard, gathered rows, output in input order. */
export function batchArea(dim: number, nShards: number) {
  const at = { ids: 0, keys: BATCH * 8, starts: BATCH * 24, fill: BATCH * 24 + 4 * (nShards + 1), rows: 0, out: 0 };
  at.rows = (at.fill + 4 * nShards + 63) & ~63;
  at.out = at.rows + BATCH * dim * 4;
  const memory = sharedWasmMemory(at.out + BATCH * dim * 4);
  const b = memory.buffer;
  return {
    k: instantiateWasm<Kernel>('table-kernels', memory),
    at,
    ids: new Uint32Array(b, 0, BATCH * 2),
    keys: new Int32Array(b, at.keys, BATCH * 4),
    starts: new Int32Array(b, at.starts, nShards + 1),
    rows: new Float32Array(b, at.rows, BATCH * dim),
    out: new Float32Array(b, at.out, BATCH * dim),
  };
}
export type BatchArea = ReturnType<typeof batchArea>;

export interface ShardMirror {
  k: Kernel;
  keys: Int32Array;
  out: Float32Array;
  out64: Float64Array;
  at: { keys: number; rowsOut: number; out: number; gsum: number; dedup: number; sink: number; index: number; rows: number };
  /** The mirrored rows (`usedWords` floats). */
  rows: Float32Array;
  log2: number;
}

export function mirror(index: Int32Array, capacity: number, log2: number, rows: Float32Array, usedWords: number, dim: number): ShardMirror {
  const keysB = BATCH * 16;
  const rowsOutB = BATCH * 4;
  const outB = BATCH * dim * 4;
  const at = { keys: 0, rowsOut: keysB, out: keysB + rowsOutB, gsum: keysB + rowsOutB + outB, dedup: keysB + rowsOutB + 2 * outB, sink: 0, index: 0, rows: 0 };
  at.sink = at.dedup + 12 * (1 << DEDUP_LOG2);
  at.index = (at.sink + 64 + 63) & ~63;
  at.rows = (at.index + capacity * 12 + 63) & ~63;
  const memory = sharedWasmMemory(at.rows + usedWords * 4);
  new Int32Array(memory.buffer, at.index, capacity * 3).set(index.subarray(0, capacity * 3));
  new Float32Array(memory.buffer, at.rows, usedWords).set(rows.subarray(0, usedWords));
  return { k: instantiateWasm<Kernel>('table-kernels', memory), rows: new Float32Array(memory.buffer, at.rows, usedWords), keys: new Int32Array(memory.buffer, at.keys, BATCH * 4), out: new Float32Array(memory.buffer, at.out, BATCH * dim), out64: new Float64Array(memory.buffer, at.out, (BATCH * dim) / 2), at, log2 };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1]!;
const spread = (xs: number[]): string => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`;

export function run(size: number, dim: number, batches: number, repeat: number, nativeBin?: string): string {
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
        keys[4 * q] = packed[2 * (from + q)]!;
        keys[4 * q + 1] = w[2 * i]!;
        keys[4 * q + 2] = w[2 * i + 1]!;
        keys[4 * q + 3] = i;
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
  // Everything per key in wasm: partition and scatter in this thread's batch area, memcpy to and from each shard's memory.
  const area = batchArea(dim, mirrors.length);
  const outA = new Float32Array(BATCH * dim);
  const wasmAll = (w: Uint32Array): void => {
    const n = w.length >>> 1;
    area.ids.set(w);
    area.k.partitionKeys(0, n, mirrors.length, area.at.keys, area.at.starts, area.at.fill);
    const starts = area.starts;
    for (let s = 0; s < mirrors.length; s++) {
      const from = starts[s]!;
      const cnt = starts[s + 1]! - from;
      if (cnt === 0) continue;
      const m = mirrors[s]!;
      m.keys.set(area.keys.subarray(4 * from, 4 * (from + cnt)));
      m.k.lookupRows(m.at.keys, cnt, m.at.index, m.log2, m.at.rows, st * 4, dim * 4, m.at.out, m.at.rowsOut);
      area.rows.set(m.out.subarray(0, cnt * dim), from * dim);
    }
    area.k.scatterRows(area.at.rows, area.at.keys, n, dim * 4, area.at.out);
    outA.set(area.out.subarray(0, n * dim));
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
    wasmAll(w);
    if (Buffer.compare(Buffer.from(outTs.buffer), Buffer.from(outA.buffer)) !== 0) throw new Error(`batch ${b}: all-wasm and TypeScript lookups differ`);
  }
  const ts: number[] = [];
  const wa: number[] = [];
  const ko: number[] = [];
  const wall: number[] = [];
  const cpp: number[] = [];
  const ns: number[][] = [[], [], [], []];
  const perKey = (ms: number): number => (ms * 1e6) / (batches * BATCH);
  for (let r = 0; r < repeat; r++) {
    ts.push(each((w) => table.lookupOnly(w, outTs)));
    kernelMs = partMs = keysMs = scatterMs = 0;
    wa.push(each((w) => wasmLookup(w, true)));
    ko.push((batches * BATCH) / kernelMs / 1000);
    wall.push(each(wasmAll));
    const ref = nativeBin ? runNative(nativeBin, dim, size, 1, batches) : undefined;
    if (ref) cpp.push(ref.c);
    [partMs, keysMs, kernelMs, scatterMs].forEach((ms, q) => ns[q]!.push(perKey(ms)));
  }
  const vsCpp = (x: number[]): string => (cpp.length ? (median(x) / median(cpp)).toFixed(2) : 'n/a');
  const row = `| ${size.toExponential(0)} | ${dim} | ${cpp.length ? `${median(cpp).toFixed(1)} (${spread(cpp)})` : 'n/a'} | ${vsCpp(ts)} | ${vsCpp(wall)} | ${median(ts).toFixed(1)} (${spread(ts)}) | ${median(wa).toFixed(1)} (${spread(wa)}) | ${(median(wa) / median(ts)).toFixed(2)} | ${median(ko).toFixed(1)} (${spread(ko)}) | ${median(wall).toFixed(1)} (${spread(wall)}) | ${(median(wall) / median(ts)).toFixed(2)} | ${ns.map((x) => median(x).toFixed(0)).join(' / ')} |`;
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
  const bin = args.includes('--no-native') ? undefined : nativeRef('/work/shared/bench-ref');
  process.stdout.write('| N | dim | C++ (c) | TS / C++ | all-wasm / C++ | TS lookupOnly | wasm kernel + JS key write + scatter | wasm / TS | kernel only | all in wasm (memcpy between memories) | all-wasm / TS | ns per key (JS I/O variant): partition / key write / kernel / scatter |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n');
  for (const size of sizes) for (const dim of dims) process.stdout.write(run(size, dim, batches, repeat, bin) + '\n');
}
