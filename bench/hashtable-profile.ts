/**
 * Where the hash table's time goes: profiles lookup-or-insert (a), Adagrad
 * apply (b) and lookupOnly (c) on a filled table (the bench/hashtable.ts
 * workload) with V8's sampling profiler, and prints the functions and source
 * lines with the most self time.
 *
 *   node dist/bench/hashtable-profile.js [--size=1e6] [--dim=16] [--batches=300] [--quick]
 *
 * The table is filled before profiling starts, so only the timed ops are in
 * the profile. Inlined callees are counted in their caller (V8 attributes
 * their lines to the caller's source lines: e.g. the Adagrad loop shows up in
 * SliceApply.updateRows with adagrad.js line numbers).
 */
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { adagradTable, BATCH, wordsOfRanks, zipfRanks } from './hashtable-workload.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  positionTicks?: { line: number; ticks: number }[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function summarize(p: Profile, top: number): string[] {
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFn = new Map<string, number>();
  const byLine = new Map<string, number>();
  let ticks = 0;
  for (const n of p.nodes) {
    const file = n.callFrame.url.split('/').pop() ?? '';
    const fn = `${n.callFrame.functionName || '(anonymous)'} (${file}:${n.callFrame.lineNumber + 1})`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + (self.get(n.id) ?? 0));
    for (const t of n.positionTicks ?? []) {
      const k = `${file}:${t.line} in ${n.callFrame.functionName || '(anonymous)'}`;
      byLine.set(k, (byLine.get(k) ?? 0) + t.ticks);
      ticks += t.ticks;
    }
  }
  const pct = (x: number, of: number): string => `${((100 * x) / of).toFixed(1)}%`;
  return [
    ...[...byFn].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => `  ${pct(v, total).padStart(6)}  ${k}`),
    '  lines:',
    ...[...byLine].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => `  ${pct(v, ticks).padStart(6)}  ${k}`),
  ];
}

export async function profile(size: number, dim: number, batches: number): Promise<string> {
  const table = adagradTable(dim, size, 16);
  const fill = wordsOfRanks(Float64Array.from({ length: size }, (_, i) => i));
  for (let o = 0; o < fill.length; o += BATCH * 2) table.lookup(fill.subarray(o, o + BATCH * 2));
  const a = wordsOfRanks(zipfRanks(batches * BATCH, 1e7, 1.05, 7));
  const c = wordsOfRanks(zipfRanks(batches * BATCH, size, 1.05, 9));
  const grads = Float32Array.from({ length: BATCH * dim }, (_, i) => Math.sin(i) * 0.1);
  const out = new Float32Array(BATCH * dim);
  const ops = {
    a: (w: Uint32Array) => table.lookup(w, out),
    b: (w: Uint32Array) => table.applyGradients(w, grads),
    c: (w: Uint32Array) => table.lookupOnly(w, out),
  };
  const session = new Session();
  session.connect();
  const lines: string[] = [`hash table profile: N=${size}, dim ${dim}, 16 shards, ${batches} batches of ${BATCH} per op`];
  for (const op of ['a', 'b', 'c'] as const) {
    const ids = op === 'c' ? c : a;
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
    const t0 = performance.now();
    for (let b = 0; b < batches; b++) ops[op](ids.subarray(b * BATCH * 2, (b + 1) * BATCH * 2));
    const ms = performance.now() - t0;
    const { profile: p } = (await session.post('Profiler.stop')) as unknown as { profile: Profile };
    lines.push(`op ${op}: ${((batches * BATCH) / ms / 1000).toFixed(2)} M keys/s while profiled`, ...summarize(p, 12));
  }
  session.disconnect();
  return lines.join('\n');
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => args.find((x) => x.startsWith(`--${name}=`))?.slice(name.length + 3);
  const quick = args.includes('--quick');
  process.stdout.write((await profile(Number(opt('size') ?? (quick ? 1e5 : 1e6)), Number(opt('dim') ?? 16), Number(opt('batches') ?? (quick ? 50 : 300)))) + '\n');
}
