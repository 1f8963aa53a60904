/**
 * The dense step (forward + backward) against native GEMM references, at the
 * model's own GEMM shapes, interleaved round by round in one run:
 *
 *   tfjs step     TrainStep with MONOLITH_DENSE_KERNEL=tfjs (its `dense` timing)
 *   wasm step     TrainStep on the wasm SIMD kernels (the default for these models)
 *   wasm GEMMs    the wasm gemm kernel alone at the step's GEMM shapes
 *   sgemm.cc      /work/shared/bench-ref/sgemm.cc (plain vectorized loops, g++ -O3 -march=native)
 *   OpenBLAS      cblas_sgemm, one thread (bench/native/sgemm-blas.c, gcc, Debian's libopenblas-dev)
 *
 * GFLOP/s count the GEMMs only: per Dense layer x[B,K]·W[K,N] forward, and
 * xᵀ·dZ and dZ·Wᵀ backward (2·B·K·N flops each). Each figure is the best of
 * its repetitions within a round; the table gives the median over rounds and
 * the spread (min–max), and each ratio is taken within a round.
 *
 *   npm run build && node dist/bench/dense-step.js           # 7 rounds
 *   npm run build && node dist/bench/dense-step.js --quick   # 3 short rounds
 *   … --ref-dir <dir with sgemm.cc>   (default <repo>/../shared/bench-ref)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { ModelSpec } from '../src/model/model-spec.js';
import { instantiateWasm, sharedWasmMemory } from '../src/util/wasm-module.js';
import { initBackend } from '../src/workers/tf-backend.js';
import { createModelTables } from '../src/workers/model-tables.js';
import { createSharedDenseParams, TrainStep } from '../src/workers/train-step.js';
import { mlpSpec, syntheticBatch } from './dense-batch.js';
import { createModel } from './pipeline-model.js';
import { projectRoot } from './project-root.js';

interface Shape { M: number; K: number; N: number; ta: number; tb: number }

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const arg = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const ROUNDS = Number(arg('--rounds') ?? (quick ? 3 : 7));
const STEPS = quick ? 4 : 10;
const REPS = quick ? 5 : 15;
const BATCH = Number(arg('--batch') ?? 256);
const root = projectRoot();
const refDir = arg('--ref-dir') ?? join(root, '..', 'shared', 'bench-ref');

/** The GEMMs of one forward + backward step: per layer [K, N] the forward, dW and dX products. */
function gemmShapes(layers: [number, number][], B: number): Shape[] {
  return layers.flatMap(([K, N]) => [
    { M: B, K, N, ta: 0, tb: 0 },
    { M: K, K: B, N, ta: 1, tb: 0 },
    { M: B, K: N, N: K, ta: 0, tb: 1 },
  ]);
}
const flopsOf = (shapes: Shape[]): number => shapes.reduce((a, s) => a + 2 * s.M * s.K * s.N, 0);

function buildNative(): { blas?: string; plain?: string; why: string[] } {
  const dir = join(os.tmpdir(), 'monolith-ts-dense-bench');
  mkdirSync(dir, { recursive: true });
  const why: string[] = [];
  const out: { blas?: string; plain?: string; why: string[] } = { why };
  try {
    execFileSync('gcc', ['-O2', join(root, 'bench', 'native', 'sgemm-blas.c'), '-o', join(dir, 'sgemm-blas'), '-lopenblas'], { stdio: 'pipe' });
    out.blas = join(dir, 'sgemm-blas');
  } catch (e) {
    why.push(`OpenBLAS reference not built (apt-get install -y libopenblas-dev): ${(e as Error).message.split('\n')[0]}`);
  }
  const src = join(refDir, 'sgemm.cc');
  if (existsSync(src)) {
    try {
      execFileSync('g++', ['-O3', '-march=native', src, '-o', join(dir, 'sgemm')], { stdio: 'pipe' });
      out.plain = join(dir, 'sgemm');
    } catch (e) {
      why.push(`sgemm.cc not built: ${(e as Error).message.split('\n')[0]}`);
    }
  } else why.push(`no ${src}`);
  return out;
}

/** Best ms of each shape summed, by OpenBLAS. */
function blasMs(bin: string, shapes: Shape[]): number {
  const txt = execFileSync(bin, [String(REPS), ...shapes.map((s) => `${s.M},${s.K},${s.N},${s.ta},${s.tb}`)], { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1' } });
  return txt.trim().split('\n').reduce((a, l) => a + (JSON.parse(l) as { ms: number }).ms, 0);
}

/** Best ms of each shape summed, by sgemm.cc (its one layout, same flops). */
function plainMs(bin: string, shapes: Shape[]): number {
  return shapes.reduce((a, s) => a + (JSON.parse(execFileSync(bin, [String(s.M), String(s.K), String(s.N), String(REPS)], { encoding: 'utf8' })) as { ms: number }).ms, 0);
}

interface Kernels extends WebAssembly.Exports {
  gemm(a: number, ars: number, aps: number, b: number, ldb: number, c: number, ldc: number, M: number, N: number, K: number, acc: number): void;
  transpose(src: number, dst: number, R: number, C: number): void;
}

/** Best ms of each shape summed, by the wasm gemm kernel, read the way the step reads them (TN by strides, NT after a transpose). */
function wasmGemmMs(shapes: Shape[]): number {
  const floats = Math.max(...shapes.map((s) => s.M * s.K + s.K * s.N * 2 + s.M * s.N));
  const memory = sharedWasmMemory(floats * 4 + 1024);
  const k = instantiateWasm<Kernels>('dense', memory);
  const f = new Float32Array(memory.buffer);
  for (let i = 0; i < floats; i++) f[i] = Math.sin(i);
  let total = 0;
  for (const s of shapes) {
    const a = 0;
    const b = a + s.M * s.K * 4;
    const bt = b + s.K * s.N * 4;
    const c = bt + s.K * s.N * 4;
    const run = (): void => {
      if (s.tb) {
        k.transpose(b, bt, s.N, s.K);
        k.gemm(a, s.K, 1, bt, s.N, c, s.N, s.M, s.N, s.K, 0);
      } else if (s.ta) k.gemm(a, 1, s.M, b, s.N, c, s.N, s.M, s.N, s.K, 0);
      else k.gemm(a, s.K, 1, b, s.N, c, s.N, s.M, s.N, s.K, 0);
    };
    run();
    let best = Infinity;
    for (let r = 0; r < REPS; r++) {
      const t0 = performance.now();
      run();
      best = Math.min(best, performance.now() - t0);
    }
    total += best;
  }
  return total;
}

/** Best dense ms of a TrainStep over STEPS train steps (after one warm-up). */
function stepMs(step: TrainStep, spec: ModelSpec): { dense: number; total: number } {
  const batch = syntheticBatch(spec, BATCH, 5);
  step.run(batch, 'train');
  let dense = Infinity;
  let total = Infinity;
  for (let i = 0; i < STEPS; i++) {
    const r = step.run(batch, 'train');
    dense = Math.min(dense, r.timings!.dense!);
    total = Math.min(total, r.timings!.lookup! + r.timings!.dense! + r.timings!.apply!);
  }
  return { dense, total };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (xs: number[], d = 2): string => `${median(xs).toFixed(d)} (${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)})`;

async function main(): Promise<void> {
  const backend = await initBackend('wasm');
  const native = buildNative();
  const models: { label: string; spec: ModelSpec }[] = [
    { label: 'pipeline MLP 141-256-128-1', spec: createModel() },
    { label: 'Criteo-sized MLP 429-400-400-400-1', spec: mlpSpec({ features: 26, dim: 16, hidden: [400, 400, 400] }) },
  ];
  const lines: string[] = [];
  const say = (s: string): void => {
    lines.push(s);
    process.stdout.write(`${s}\n`);
  };
  say(`dense-step bench: batch ${BATCH}, ${ROUNDS} rounds${quick ? ' (--quick)' : ''}, tfjs backend ${backend}, ${os.cpus()[0]?.model ?? '?'} ×${os.cpus().length}, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  for (const w of native.why) say(`note: ${w}`);
  for (const { label, spec } of models) {
    const steps = (['tfjs', 'wasm'] as const).map((denseKernel) => new TrainStep({ spec, tables: createModelTables(spec), dense: createSharedDenseParams(spec), denseKernel }));
    const layers = steps[0]!.model.trainableWeights.filter((w) => w.shape.length === 2).map((w) => [w.shape[0]!, w.shape[1]!] as [number, number]);
    const shapes = gemmShapes(layers, BATCH);
    const flops = flopsOf(shapes);
    const g: Record<string, number[]> = { tfjs: [], wasm: [], wasmGemm: [], plain: [], blas: [], wasmEx: [], wasmFullEx: [], tfjsEx: [] };
    const ratios: Record<string, number[]> = { wasmVsTfjs: [], wasmVsPlain: [], wasmVsBlas: [], gemmVsBlas: [] };
    for (let r = 0; r < ROUNDS; r++) {
      // A B A B: every measure once per round, in the same order.
      const t = stepMs(steps[0]!, spec);
      const w = stepMs(steps[1]!, spec);
      const wg = wasmGemmMs(shapes);
      const pl = native.plain ? plainMs(native.plain, shapes) : NaN;
      const bl = native.blas ? blasMs(native.blas, shapes) : NaN;
      const gf = (ms: number): number => flops / ms / 1e6;
      g.tfjs!.push(gf(t.dense));
      g.wasm!.push(gf(w.dense));
      g.wasmGemm!.push(gf(wg));
      g.plain!.push(gf(pl));
      g.blas!.push(gf(bl));
      g.tfjsEx!.push((BATCH / t.dense) * 1000);
      g.wasmEx!.push((BATCH / w.dense) * 1000);
      g.wasmFullEx!.push((BATCH / w.total) * 1000);
      ratios.wasmVsTfjs!.push(t.dense / w.dense);
      ratios.wasmVsPlain!.push(pl / w.dense);
      ratios.wasmVsBlas!.push(bl / w.dense);
      ratios.gemmVsBlas!.push(bl / wg);
    }
    say('');
    say(`### ${label} (batch ${BATCH}, ${(flops / 1e6).toFixed(1)} MFLOP of GEMMs per step)`);
    say('');
    say('| measure | GFLOP/s median (min–max) |');
    say('|---|---|');
    say(`| tfjs step (dense stage) | ${fmt(g.tfjs!)} |`);
    say(`| wasm step (dense stage) | ${fmt(g.wasm!)} |`);
    say(`| wasm GEMMs alone | ${fmt(g.wasmGemm!)} |`);
    say(`| sgemm.cc (g++ -O3 -march=native) | ${fmt(g.plain!)} |`);
    say(`| OpenBLAS sgemm, 1 thread | ${fmt(g.blas!)} |`);
    say('');
    say('| ratio (within each round) | median (min–max) |');
    say('|---|---|');
    say(`| wasm step / tfjs step | ${fmt(ratios.wasmVsTfjs!)}× |`);
    say(`| wasm step / sgemm.cc | ${fmt(ratios.wasmVsPlain!)}× |`);
    say(`| wasm step / OpenBLAS | ${fmt(ratios.wasmVsBlas!)}× |`);
    say(`| wasm GEMMs / OpenBLAS | ${fmt(ratios.gemmVsBlas!)}× |`);
    say('');
    say(`examples/s of the dense stage: tfjs ${fmt(g.tfjsEx!, 0)}, wasm ${fmt(g.wasmEx!, 0)}; whole step in one thread (lookup + dense + apply) on wasm: ${fmt(g.wasmFullEx!, 0)}`);
  }
  void lines;
}

await main();
