/**
 * Embedding hash table benchmark: lookup-or-insert (a), Adagrad apply (b) and
 * pure lookup (c) on Zipf(1.05) ids in batches of 4096, next to a
 * Map<bigint, Float32Array> baseline and the native C++ reference
 * (/work/shared/bench-ref, built with its build.sh into $TMPDIR), all in the same run.
 *
 *   node dist/bench/hashtable.js                 # dims 8/16/64 at 1e5 and 1e6 entries, 1 and 2 threads
 *   node --expose-gc dist/bench/hashtable.js --full   # adds 1e7 entries (gc frees each table's GBs before the next)
 *   node dist/bench/hashtable.js --sizes=1e5 --dims=16 --batches=64
 *
 * `run(opts)` is exported for bench/run-all.ts; the markdown also goes to bench/RESULTS-hashtable.md.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { adagradTable, BATCH, wordsOfRanks, zipfRanks } from './hashtable-workload.js';
import type { EmbeddingHashTable } from '../src/hashtable/embedding-hash-table.js';
import { projectRoot } from './project-root.js';

export interface HashtableBenchOptions {
  /** Table sizes N (entries filled before the timed ops). Default [1e5, 1e6]. */
  sizes?: number[];
  dims?: number[];
  /** Timed batches per op (default 128) after 16 warm batches. */
  batches?: number;
  /** Shards per table (default 16). */
  shards?: number;
  /** Repetitions of every measurement (fresh tables each time); medians are reported. Default 1. */
  repeat?: number;
  /** Where to write the markdown; null to skip. Default <project>/bench/RESULTS-hashtable.md. */
  resultsPath?: string | null;
  /** The native reference's source directory (default /work/shared/bench-ref). */
  nativeDir?: string;
  progress?: boolean;
}

export interface HashtableBenchRow {
  size: number;
  dim: number;
  op: 'fill' | 'a' | 'b' | 'c';
  ts1: number;
  map1?: number;
  cpp1?: number;
  ts2?: number;
  cpp2?: number;
  /** Shared bytes per entry beyond the embedding + accumulator floats (fill row only). */
  overhead?: number;
}

export interface HashtableBenchResult {
  rows: HashtableBenchRow[];
  markdown: string;
  wallSeconds: number;
}

type Op = 'a' | 'b' | 'c';
type Rates = { fill: number; a: number; b: number; c: number };
const WARM = 16;
const UNIVERSE = 1e7;
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

function streams(dim: number, size: number, batches: number): Streams {
  const fill = wordsOfRanks(shuffledRanks(size));
  const all = wordsOfRanks(zipfRanks((WARM + batches) * BATCH, UNIVERSE, 1.05, 7));
  const allC = wordsOfRanks(zipfRanks((WARM + batches) * BATCH, size, 1.05, 9));
  const grads = Float32Array.from({ length: BATCH * dim }, (_, i) => Math.sin(i) * 0.1);
  const cut = WARM * BATCH * 2;
  return { fill, warmA: all.subarray(0, cut), a: all.subarray(cut), warmC: allC.subarray(0, cut), c: allC.subarray(cut), grads };
}

/** Fills `table` with the stream's N ids (lookup-or-insert, all misses); returns the rate. */
function fillTable(table: EmbeddingHashTable, s: Streams): number {
  const out = new Float32Array(BATCH * table.dim);
  return mk(s.fill.length / 2, runBatches(s.fill, (w) => table.lookup(w, w.length / 2 === BATCH ? out : undefined)));
}

function benchTable(table: EmbeddingHashTable, s: Streams): Rates {
  const out = new Float32Array(BATCH * table.dim);
  const fill = fillTable(table, s);
  runBatches(s.warmA, (w) => table.lookup(w, out));
  const aMs = runBatches(s.a, (w) => table.lookup(w, out));
  const bMs = runBatches(s.a, (w) => table.applyGradients(w, s.grads));
  runBatches(s.warmC, (w) => table.lookupOnly(w, out));
  const cMs = runBatches(s.c, (w) => table.lookupOnly(w, out));
  const n = s.a.length / 2;
  return { fill, a: mk(n, aMs), b: mk(n, bMs), c: mk(s.c.length / 2, cMs) };
}

/** The baseline: Map<bigint, Float32Array> with rows [emb | adagrad acc], same workload. */
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

/**
 * Two worker threads on a second, freshly filled table: the same warm + a + b
 * + c sequence as the one-thread run, each thread taking every other batch.
 * Workers are started and JIT-warmed before anything is timed.
 */
async function benchTwoThreads(dim: number, size: number, shards: number, s: Streams): Promise<Record<Op, number>> {
  const table = adagradTable(dim, size, shards);
  fillTable(table, s);
  const gate = new SharedArrayBuffer(8);
  const g = new Int32Array(gate);
  const url = new URL('./hashtable-worker.js', import.meta.url);
  const ws = [0, 1].map((part) => new Worker(url, { workerData: { handle: table.handle(), grads: s.grads, warm: s.warmA, part, parts: 2, gate } }));
  try {
    await Promise.all(ws.map((w) => new Promise((res, rej) => (w.once('message', res), w.once('error', rej)))));
    let round = 0;
    const timed = async (op: Op, ids: Uint32Array): Promise<number> => {
      round++;
      const done = ws.map((w) => new Promise((res, rej) => (w.once('message', res), w.once('error', rej))));
      for (const w of ws) w.postMessage({ op, ids, round });
      while (Atomics.load(g, 0) < 2 * round) Atomics.wait(g, 0, Atomics.load(g, 0), 5);
      const t0 = performance.now();
      Atomics.store(g, 1, round);
      Atomics.notify(g, 1);
      await Promise.all(done);
      return mk(ids.length / 2, performance.now() - t0);
    };
    await timed('a', s.warmA);
    const a = await timed('a', s.a);
    const b = await timed('b', s.a);
    await timed('c', s.warmC);
    const c = await timed('c', s.c);
    return { a, b, c };
  } finally {
    await Promise.all(ws.map((w) => w.terminate()));
  }
}

export function nativeRef(srcDir: string): string | undefined {
  const dir = join(os.tmpdir(), 'monolith-ts-bench-ref');
  const bin = join(dir, 'hashbench');
  if (!existsSync(bin)) {
    try {
      mkdirSync(dir, { recursive: true });
      cpSync(srcDir, dir, { recursive: true });
      execFileSync('bash', [join(dir, 'build.sh')], { stdio: 'ignore' });
    } catch {
      return undefined;
    }
  }
  return existsSync(bin) ? bin : undefined;
}

export function runNative(bin: string, dim: number, size: number, threads: number, batches: number): Rates | undefined {
  try {
    const txt = execFileSync(bin, ['--table=oa', `--dim=${dim}`, `--size=${size}`, `--threads=${threads}`, `--batches=${batches}`, `--warm=${WARM}`], { encoding: 'utf8' });
    const line = txt.split('\n').find((l) => l.startsWith('RESULT'));
    if (!line) return undefined;
    const kv = Object.fromEntries(line.split(' ').slice(1).map((p) => p.split('=') as [string, string]));
    return { fill: Number(kv.fill_mkeys_s), a: Number(kv.a_total_mkeys_s ?? kv.a_mkeys_s), b: Number(kv.b_total_mkeys_s ?? kv.b_mkeys_s), c: Number(kv.c_total_mkeys_s ?? kv.c_mkeys_s) };
  } catch {
    return undefined;
  }
}

/**
 * The hand-written sections of an existing results file (from its first
 * `## ` heading on: analysis, targets), kept below a new run's table.
 */
function keptNotes(path: string): string {
  if (!existsSync(path)) return '';
  const old = readFileSync(path, 'utf8');
  const at = old.search(/^## /m);
  return at < 0 ? '' : `\n${old.slice(at)}`;
}

const f = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? 'n/a' : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const ratio = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : a / b);


export async function run(opts: HashtableBenchOptions = {}): Promise<HashtableBenchResult> {
  const sizes = opts.sizes ?? [1e5, 1e6];
  const dims = opts.dims ?? [8, 16, 64];
  const batches = opts.batches ?? 128;
  const shards = opts.shards ?? 16;
  const repeat = opts.repeat ?? 1;
  const log = opts.progress === false ? () => {} : (s: string) => process.stderr.write(`[hashtable] ${s}\n`);
  const bin = nativeRef(opts.nativeDir ?? '/work/shared/bench-ref');
  if (!bin) log('native reference could not be built: its columns are n/a');
  const load0 = os.loadavg();
  const rows: HashtableBenchRow[] = [];
  const t0 = performance.now();
  for (const size of sizes) {
    for (const dim of dims) {
      const s = streams(dim, size, batches);
      // Each repetition measures everything again (fresh tables, a new C++ process); the table reports medians.
      const reps: { ts: Rates; overhead: number; map?: Rates; ref1?: Rates; t2: Record<Op, number>; ref2?: Rates }[] = [];
      for (let r = 0; r < repeat; r++) {
        let table: EmbeddingHashTable | undefined = adagradTable(dim, size, shards);
        const ts = benchTable(table, s);
        const overhead = table.bytes / table.size - 2 * dim * 4;
        table = undefined; // let the one-thread table go before the two-thread one is made
        (globalThis as { gc?: () => void }).gc?.(); // with --expose-gc: free its shared buffers now (1e7 x dim 64 is 5 GB)
        const map = size <= 1e6 ? benchMap(dim, s) : undefined;
        const ref1 = bin ? runNative(bin, dim, size, 1, batches) : undefined;
        const t2 = await benchTwoThreads(dim, size, shards, s);
        (globalThis as { gc?: () => void }).gc?.();
        const ref2 = bin ? runNative(bin, dim, size, 2, batches) : undefined;
        reps.push({ ts, overhead, map, ref1, t2, ref2 });
      }
      const med = (xs: (number | undefined)[]): number | undefined => {
        const v = xs.filter((x): x is number => x !== undefined && Number.isFinite(x)).sort((p, q) => p - q);
        return v.length ? v[(v.length - 1) >> 1] : undefined;
      };
      for (const op of ['fill', 'a', 'b', 'c'] as const) {
        rows.push({
          size,
          dim,
          op,
          ts1: med(reps.map((x) => x.ts[op]))!,
          map1: med(reps.map((x) => x.map?.[op])),
          cpp1: med(reps.map((x) => x.ref1?.[op])),
          ts2: op === 'fill' ? undefined : med(reps.map((x) => x.t2[op])),
          cpp2: med(reps.map((x) => x.ref2?.[op])),
          overhead: op === 'fill' ? med(reps.map((x) => x.overhead)) : undefined,
        });
      }
      log(`N=${size} dim=${dim}: ${rows.slice(-4).map((r) => `${r.op} ${f(r.ts1)} (x Map ${f(ratio(r.ts1, r.map1))}, x C++ ${f(ratio(r.ts1, r.cpp1))}, 2T/1T ${f(ratio(r.ts2, r.ts1))})`).join('; ')}`);
    }
  }
  const wallSeconds = (performance.now() - t0) / 1000;
  const load1 = os.loadavg();
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown';
  const md = [
    '# Hash table benchmark (bench/hashtable.ts)',
    '',
    `Command: \`node --expose-gc dist/bench/hashtable.js --sizes=${sizes.join(',')} --dims=${dims.join(',')} --batches=${batches} --repeat=${repeat}\` — ${new Date().toISOString()}, ${wallSeconds.toFixed(0)} s; ${cpu}, ${os.cpus().length} vCPUs, Node ${process.version}.`,
    `Load average (1/5/15 min) at start ${load0.map((x) => x.toFixed(1)).join('/')}, at end ${load1.map((x) => x.toFixed(1)).join('/')} (the machine is shared with other work).`,
    `Adagrad table, ${shards} shards, Zipf(1.05) over ${UNIVERSE.toExponential(0)} ids, batches of ${BATCH}, ${batches} timed batches per op (+${WARM} warm); every figure is the median of ${repeat} repetition(s) (fresh tables, a new C++ process each).`,
    'Rates in million keys per second. fill = lookup-or-insert of the N table ids (all misses, includes first-touch page faults, which the C++ reference pre-faults),',
    'a = lookup-or-insert, b = Adagrad apply (dedupe + one update per id), c = lookupOnly (all hits). "x Map" and "x C++" are ratios measured in the same run;',
    '"2T/1T" is our 2-thread rate (a second table, two worker threads on alternate batches) over our 1-thread rate.',
    'Overhead = shared bytes per entry (index + rows incl. growth slack + control) beyond the embedding + accumulator floats, after the a/b/c ops.',
    '',
    '| N | dim | op | TS 1T | Map 1T | x Map | C++ 1T | x C++ | TS 2T | 2T/1T | C++ 2T | overhead B/entry |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.size.toExponential(0)} | ${r.dim} | ${r.op} | ${f(r.ts1)} | ${f(r.map1)} | ${f(ratio(r.ts1, r.map1))} | ${f(r.cpp1)} | ${f(ratio(r.ts1, r.cpp1))} | ${f(r.ts2)} | ${f(ratio(r.ts2, r.ts1))} | ${f(r.cpp2)} | ${r.overhead === undefined ? '' : r.overhead.toFixed(1)} |`,
    ),
    '',
  ].join('\n');
  const out = opts.resultsPath === undefined ? join(projectRoot(), 'bench', 'RESULTS-hashtable.md') : opts.resultsPath;
  if (out) writeFileSync(out, md + keptNotes(out));
  return { rows, markdown: md, wallSeconds };
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const list = (v: string | undefined) => v?.split(',').map(Number);
  const sizes = list(opt('sizes')) ?? (args.includes('--full') ? [1e5, 1e6, 1e7] : undefined);
  const res = await run({ sizes, dims: list(opt('dims')), batches: opt('batches') ? Number(opt('batches')) : undefined, repeat: opt('repeat') ? Number(opt('repeat')) : undefined, resultsPath: opt('out') ?? (opt('sizes') || opt('dims') ? null : undefined) });
  process.stdout.write(res.markdown);
}
