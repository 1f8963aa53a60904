/**
 * Embedding hash table benchmark: lookup-or-insert (a), Adagrad apply (b) and
 * pure lookup (c) on Zipf(1.05) ids in batches of 4096, next to a
 * Map<bigint, Float32Array> baseline and the native C++ reference
 * (../shared/bench-ref, built into a temp dir), all in the same run.
 *
 *   node dist-h2/bench/hashtable.js            # default: dims 8/16/64 at 1e5 entries, 1 and 2 threads (~2-3 min)
 *   node dist-h2/bench/hashtable.js --full     # sizes 1e5, 1e6, 1e7 and 256 timed batches
 *   add --out bench/RESULTS-hashtable.md to write the table
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { adagradTable, BATCH, wordsOfRanks, zipfRanks } from './hashtable-workload.js';
import type { EmbeddingHashTable } from '../src/hashtable/embedding-hash-table.js';

const args = process.argv.slice(2);
const full = args.includes('--full');
const outPath = args.includes('--out') ? args[args.indexOf('--out') + 1] : undefined;
const dims = [8, 16, 64];
const sizes = full ? [1e5, 1e6, 1e7] : [1e5];
const batches = full ? 256 : 64;
const warm = 16;
const universe = 1e7;
const SHARDS = 16;

type Rates = { fill: number; a: number; b: number; c: number };
const mk = (keys: number, ms: number): number => keys / ms / 1000;

function shuffledRanks(n: number): Float64Array {
  const r = Float64Array.from({ length: n }, (_, i) => i);
  let x = 12345;
  for (let i = n - 1; i > 0; i--) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const j = x % (i + 1);
    const t = r[i]!;
    r[i] = r[j]!;
    r[j] = t;
  }
  return r;
}

function runBatches(ids: Uint32Array, fn: (w: Uint32Array) => void): number {
  const nb = ids.length / 2 / BATCH;
  const t0 = performance.now();
  for (let b = 0; b < nb; b++) fn(ids.subarray(b * BATCH * 2, (b + 1) * BATCH * 2));
  return performance.now() - t0;
}

interface Streams {
  fill: Uint32Array;
  warmA: Uint32Array;
  a: Uint32Array;
  warmC: Uint32Array;
  c: Uint32Array;
  grads: Float32Array;
}

function streams(dim: number, size: number): Streams {
  const fill = wordsOfRanks(shuffledRanks(size));
  const all = wordsOfRanks(zipfRanks((warm + batches) * BATCH, universe, 1.05, 7));
  const allC = wordsOfRanks(zipfRanks((warm + batches) * BATCH, size, 1.05, 9));
  const grads = Float32Array.from({ length: BATCH * dim }, (_, i) => Math.sin(i) * 0.1);
  const cut = warm * BATCH * 2;
  return { fill, warmA: all.subarray(0, cut), a: all.subarray(cut), warmC: allC.subarray(0, cut), c: allC.subarray(cut), grads };
}

function benchTable(table: EmbeddingHashTable, s: Streams): Rates {
  const out = new Float32Array(BATCH * table.dim);
  const fillMs = runBatches(s.fill, (w) => table.lookup(w, w.length / 2 === BATCH ? out : undefined));
  runBatches(s.warmA, (w) => table.lookup(w, out));
  const aMs = runBatches(s.a, (w) => table.lookup(w, out));
  const bMs = runBatches(s.a, (w) => table.applyGradients(w, s.grads));
  runBatches(s.warmC, (w) => table.lookupOnly(w, out));
  const cMs = runBatches(s.c, (w) => table.lookupOnly(w, out));
  const n = s.a.length / 2;
  return { fill: mk(s.fill.length / 2, fillMs), a: mk(n, aMs), b: mk(n, bMs), c: mk(s.c.length / 2, cMs) };
}

/** The baseline: Map<bigint, Float32Array> with rows [emb | adagrad acc]. */
function benchMap(dim: number, s: Streams): Rates {
  const map = new Map<bigint, Float32Array>();
  const out = new Float32Array(BATCH * dim);
  const big = (w: Uint32Array) => new BigUint64Array(w.buffer, w.byteOffset, w.length / 2);
  let seed = 1;
  const getOrInsert = (k: bigint): Float32Array => {
    let r = map.get(k);
    if (!r) {
      r = new Float32Array(2 * dim);
      for (let j = 0; j < dim; j++) {
        seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
        r[j] = (seed / 4294967296) * 0.1 - 0.05;
        r[dim + j] = 0.1;
      }
      map.set(k, r);
    }
    return r;
  };
  const lookup = (w: Uint32Array) => {
    const ids = big(w);
    for (let i = 0; i < ids.length; i++) out.set(getOrInsert(ids[i]!).subarray(0, dim), i * dim);
  };
  const fillMs = runBatches(s.fill, lookup);
  runBatches(s.warmA, lookup);
  const aMs = runBatches(s.a, lookup);
  const bMs = runBatches(s.a, (w) => {
    const ids = big(w);
    const sum = new Map<bigint, Float32Array>();
    for (let i = 0; i < ids.length; i++) {
      let g = sum.get(ids[i]!);
      if (!g) sum.set(ids[i]!, (g = new Float32Array(dim)));
      for (let j = 0; j < dim; j++) g[j] += s.grads[i * dim + j]!;
    }
    for (const [k, g] of sum) {
      const r = getOrInsert(k);
      for (let j = 0; j < dim; j++) {
        r[dim + j] += g[j]! * g[j]!;
        r[j] -= (0.01 * g[j]!) / Math.sqrt(r[dim + j]!);
      }
    }
  });
  const cMs = runBatches(s.c, (w) => {
    const ids = big(w);
    for (let i = 0; i < ids.length; i++) {
      const r = map.get(ids[i]!);
      if (r) out.set(r.subarray(0, dim), i * dim);
    }
  });
  const n = s.a.length / 2;
  return { fill: mk(s.fill.length / 2, fillMs), a: mk(n, aMs), b: mk(n, bMs), c: mk(s.c.length / 2, cMs) };
}

async function twoThreads(table: EmbeddingHashTable, s: Streams, op: 'a' | 'b' | 'c'): Promise<number> {
  const ids = op === 'c' ? s.c : s.a;
  const gate = new SharedArrayBuffer(8);
  const g = new Int32Array(gate);
  const url = new URL('./hashtable-worker.js', import.meta.url);
  const ws = [0, 1].map((part) => new Worker(url, { workerData: { handle: table.handle(), ids, grads: s.grads, op, part, parts: 2, gate } }));
  const done = ws.map((w) => new Promise((res, rej) => (w.once('message', res), w.once('error', rej))));
  while (Atomics.load(g, 0) < 2) Atomics.wait(g, 0, Atomics.load(g, 0), 5);
  const t0 = performance.now();
  Atomics.store(g, 1, 1);
  Atomics.notify(g, 1);
  await Promise.all(done);
  const ms = performance.now() - t0;
  await Promise.all(ws.map((w) => w.terminate()));
  return mk(ids.length / 2, ms);
}

function nativeRef(): string | undefined {
  const dir = join(tmpdir(), 'monolith-ts-bench-ref');
  const bin = join(dir, 'hashbench');
  if (!existsSync(bin)) {
    try {
      mkdirSync(dir, { recursive: true });
      cpSync('/work/shared/bench-ref', dir, { recursive: true });
      execFileSync('bash', [join(dir, 'build.sh')], { stdio: 'ignore' });
    } catch {
      return undefined;
    }
  }
  return existsSync(bin) ? bin : undefined;
}

function runNative(bin: string, dim: number, size: number, threads: number): Rates | undefined {
  try {
    const txt = execFileSync(bin, [`--table=oa`, `--dim=${dim}`, `--size=${size}`, `--threads=${threads}`, `--batches=${batches}`, `--warm=${warm}`], { encoding: 'utf8' });
    const line = txt.split('\n').find((l) => l.startsWith('RESULT'));
    if (!line) return undefined;
    const kv = Object.fromEntries(line.split(' ').slice(1).map((p) => p.split('=') as [string, string]));
    return { fill: Number(kv.fill_mkeys_s), a: Number(kv.a_mkeys_s), b: Number(kv.b_mkeys_s), c: Number(kv.c_mkeys_s) };
  } catch {
    return undefined;
  }
}

const f = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? 'n/a' : x >= 10 ? x.toFixed(1) : x.toFixed(2));

async function main(): Promise<void> {
  const bin = nativeRef();
  const rows: string[] = [];
  const t0 = performance.now();
  for (const size of sizes) {
    for (const dim of dims) {
      const s = streams(dim, size);
      const table = adagradTable(dim, size, SHARDS);
      const ts = benchTable(table, s);
      const overhead = table.bytes / table.size - 2 * dim * 4;
      const map = size <= 1e6 ? benchMap(dim, s) : undefined;
      const ref1 = bin ? runNative(bin, dim, size, 1) : undefined;
      const t2 = { a: await twoThreads(table, s, 'a'), b: await twoThreads(table, s, 'b'), c: await twoThreads(table, s, 'c') };
      const ref2 = bin ? runNative(bin, dim, size, 2) : undefined;
      for (const op of ['fill', 'a', 'b', 'c'] as const) {
        const two = op === 'fill' ? undefined : t2[op];
        rows.push(
          `| ${size.toExponential(0)} | ${dim} | ${op} | ${f(ts[op])} | ${f(map?.[op])} | ${f(map ? ts[op] / map[op] : undefined)} | ${f(ref1?.[op])} | ${f(ref1 ? ts[op] / ref1[op] : undefined)} | ${f(two)} | ${f(two !== undefined ? two / ts[op] : undefined)} | ${f(ref2?.[op])} | ${op === 'fill' ? overhead.toFixed(1) : ''} |`,
        );
      }
      console.log(rows.slice(-4).join('\n'));
    }
  }
  const header = [
    '# Hash table benchmark (bench/hashtable.ts)',
    '',
    `Command: \`node dist-h2/bench/hashtable.js${full ? ' --full' : ''}\` — ${new Date().toISOString()}, ${((performance.now() - t0) / 1000).toFixed(0)} s.`,
    `Adagrad table, ${SHARDS} shards, Zipf(1.05) over ${universe.toExponential(0)} ids, batches of ${BATCH}, ${batches} timed batches (+${warm} warm).`,
    'Rates in million keys per second; ops: fill = lookup-or-insert of the N table ids (all misses), a = lookup-or-insert,',
    'b = Adagrad apply (dedupe + one update per id), c = lookupOnly (all hits). "x Map" and "x C++" are ratios measured in the same run;',
    '"2T/1T" is our 2-thread rate over our 1-thread rate. Overhead = shared bytes per entry beyond the embedding + accumulator floats.',
    '',
    '| N | dim | op | TS 1T | Map 1T | x Map | C++ 1T | x C++ | TS 2T | 2T/1T | C++ 2T | overhead B/entry |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const md = [...header, ...rows, ''].join('\n');
  if (outPath) writeFileSync(outPath, md);
  else console.log(md);
}

await main();
