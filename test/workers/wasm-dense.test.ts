import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError } from '../../src/errors.js';
import type { ModelSpec } from '../../src/model/model-spec.js';
import { Rng } from '../../src/util/random.js';
import { instantiateWasm, sharedWasmMemory } from '../../src/util/wasm-module.js';
import { initBackend } from '../../src/workers/tf-backend.js';
import { createModelTables } from '../../src/workers/model-tables.js';
import { createSharedDenseParams, TrainStep } from '../../src/workers/train-step.js';
import { planDenseModel } from '../../src/workers/wasm-dense-plan.js';
import { WasmDenseStep } from '../../src/workers/wasm-dense-step.js';
import { tinyBatch } from './fixtures/tiny-batches.js';

test.before(async () => {
  await initBackend('cpu');
});

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-4): string | undefined => {
  if (a.length !== b.length) return `lengths ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i]! - b[i]!) <= tol * (1 + Math.abs(b[i]!)))) return `at ${i}: ${a[i]} vs ${b[i]}`;
  return undefined;
};

const glorot = (seed: number) => tfl.initializers.glorotUniform({ seed });

/** Concat of pooled inputs and a dense input into a relu MLP, as the benchmark's CTR model. */
function mlp(): { model: tfl.LayersModel; widths: number[]; pooled: number } {
  const ins = [tfl.input({ shape: [4] }), tfl.input({ shape: [4] }), tfl.input({ shape: [4] }), tfl.input({ shape: [3] })];
  let h = tfl.layers.concatenate().apply(ins) as tfl.SymbolicTensor;
  h = tfl.layers.dense({ units: 16, activation: 'relu', kernelInitializer: glorot(1) }).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.dense({ units: 9, activation: 'relu', kernelInitializer: glorot(2), biasInitializer: tfl.initializers.constant({ value: 0.1 }) }).apply(h) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 1, kernelInitializer: glorot(3) }).apply(h) as tfl.SymbolicTensor;
  return { model: tfl.model({ inputs: ins, outputs: out }), widths: [4, 4, 4, 3], pooled: 3 };
}

/** Sigmoid / tanh, a bias-free layer, Add, an Activation layer, a value read twice and two outputs. */
function mixed(): { model: tfl.LayersModel; widths: number[]; pooled: number } {
  const a = tfl.input({ shape: [5] });
  const b = tfl.input({ shape: [5] });
  const c = tfl.input({ shape: [3] });
  const h1 = tfl.layers.dense({ units: 6, activation: 'sigmoid', kernelInitializer: glorot(4) }).apply(a) as tfl.SymbolicTensor;
  const h2 = tfl.layers.dense({ units: 6, activation: 'tanh', useBias: false, kernelInitializer: glorot(5) }).apply(b) as tfl.SymbolicTensor;
  let s = tfl.layers.add().apply([h1, h2]) as tfl.SymbolicTensor;
  s = tfl.layers.activation({ activation: 'relu' }).apply(s) as tfl.SymbolicTensor;
  const o1 = tfl.layers.dense({ units: 1, kernelInitializer: glorot(6) }).apply(s) as tfl.SymbolicTensor;
  const o2 = tfl.layers.dense({ units: 2, activation: 'sigmoid', kernelInitializer: glorot(7) }).apply(tfl.layers.concatenate().apply([s, c])) as tfl.SymbolicTensor;
  return { model: tfl.model({ inputs: [a, b, c], outputs: [o1, o2] }), widths: [5, 5, 3], pooled: 2 };
}

function sequential(): { model: tfl.LayersModel; widths: number[]; pooled: number } {
  const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [6], units: 8, activation: 'relu', kernelInitializer: glorot(8) }), tfl.layers.dense({ units: 1, kernelInitializer: glorot(9) })] });
  return { model, widths: [6], pooled: 1 };
}

for (const [name, make] of [['concat + relu MLP', mlp], ['sigmoid, tanh, no bias, add, activation, fan-out, two outputs', mixed], ['Sequential', sequential]] as const) {
  test(`wasm forward and gradients equal tfjs's: ${name}`, (t) => {
    const { model, widths, pooled } = make();
    const dense = createSharedDenseParams({ buildDense: () => model, denseOptimizer: undefined }, model);
    const plan = planDenseModel(model, pooled);
    if ('unsupported' in plan) return t.fail(plan.unsupported);
    const step = new WasmDenseStep(plan, dense, dense.handle.memory as never, widths);
    const rng = new Rng(3);
    for (const rows of [7, 33]) {
      const xs = widths.map((w) => Float32Array.from({ length: rows * w }, () => rng.uniform(-2, 2)));
      const outs = step.forward(xs, rows).map((o) => o.slice());
      // Reference: d(Σ_j Σ R_j ⊙ out_j) with respect to the weights and the pooled inputs.
      const rs = outs.map((o) => Float32Array.from(o, () => rng.uniform(-1, 1)));
      const ins = xs.map((x, k) => (k < pooled ? tf.variable(tf.tensor2d(x, [rows, widths[k]!])) : tf.tensor2d(x, [rows, widths[k]!])));
      const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
      let ref: Float32Array[] = [];
      const { grads } = tf.variableGrads(() => {
        const o = model.apply(ins, { training: true }) as tf.Tensor | tf.Tensor[];
        const os = Array.isArray(o) ? o : [o];
        ref = os.map((x) => x.dataSync() as Float32Array);
        return tf.addN(os.map((x, j) => tf.sum(tf.mul(x, tf.tensor(rs[j]!, x.shape))))) as tf.Scalar;
      }, [...vars, ...(ins.slice(0, pooled) as tf.Variable[])]);
      outs.forEach((o, j) => t.is(close(o, ref[j]!), undefined, `output ${j}, ${rows} rows`));
      const got = step.backward(rs, pooled);
      vars.forEach((v, i) => t.is(close(got.dense[i]!, grads[v.name]!.dataSync()), undefined, `weight ${v.name}, ${rows} rows`));
      ins.slice(0, pooled).forEach((v, k) => t.is(close(got.pooled[k]!, grads[(v as tf.Variable).name]!.dataSync()), undefined, `pooled input ${k}, ${rows} rows`));
      tf.dispose([...ins, ...Object.values(grads)]);
    }
  });
}

test('the kernels have no data segment: instantiating them in a thread leaves the shared memory (the weights) untouched', (t) => {
  const memory = sharedWasmMemory(1 << 16);
  const bytes = new Uint8Array(memory.buffer);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + 3) & 255;
  instantiateWasm('dense', memory);
  t.true(bytes.every((b, i) => b === ((i * 7 + 3) & 255)));
});

/** A spec around `build` over tinyBatch's columns: features f0, f1 (dim 4), dense width 2. */
function specOf(build: () => tfl.LayersModel, optimizer: 'adagrad' | 'adam' = 'adagrad'): ModelSpec {
  const entry = { segments: [{ dimSize: 4, optConfig: { adagrad: { learningRate: 0.05 } }, initConfig: { randomUniform: { minval: -0.5, maxval: 0.5 } }, compConfig: { fp32: {} } }] };
  return {
    name: 'wasm-test',
    features: [0, 1].map((f) => ({ name: `f${f}`, slot: f + 1, dim: 4, combiner: 'reduce_sum' as const, table: 't' })),
    tables: { t: { entry } },
    denseInputs: [{ name: 'dense', width: 2 }],
    heads: [{ name: 'ctr', kind: 'classification', labelIndex: 0 }],
    denseOptimizer: { name: optimizer, learningRate: 0.05 },
    buildDense: build,
  };
}

const mlpModel = (): tfl.LayersModel => {
  const ins = [tfl.input({ shape: [4] }), tfl.input({ shape: [4] }), tfl.input({ shape: [2] })];
  let h = tfl.layers.concatenate().apply(ins) as tfl.SymbolicTensor;
  h = tfl.layers.dense({ units: 12, activation: 'relu', kernelInitializer: glorot(11) }).apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: ins, outputs: tfl.layers.dense({ units: 1, kernelInitializer: glorot(12) }).apply(h) as tfl.SymbolicTensor });
};

/** Trains `steps` batches with each kernel from the same start; returns both runs. */
function trainBoth(spec: ModelSpec, steps: number) {
  const runs = (['tfjs', 'wasm'] as const).map((denseKernel) => {
    const tables = createModelTables(spec);
    const dense = createSharedDenseParams(spec);
    const step = new TrainStep({ spec, tables, dense, denseKernel });
    const rng = new Rng(7);
    const results = Array.from({ length: steps }, () => step.run(tinyBatch(rng, 24), 'train'));
    const ev = step.run(tinyBatch(rng, 10), 'eval');
    return { step, tables, dense, results, ev };
  });
  return { tfjs: runs[0]!, wasm: runs[1]! };
}

for (const optimizer of ['adagrad', 'adam'] as const) {
  test(`${optimizer}: after 6 train steps the wasm kernels and tfjs agree on losses, predictions, dense weights and embeddings`, (t) => {
    const { tfjs, wasm } = trainBoth(specOf(mlpModel, optimizer), 6);
    t.is(tfjs.step.denseKernel, 'tfjs');
    t.is(wasm.step.denseKernel, 'wasm');
    t.true(wasm.results.every((r) => r.denseKernel === 'wasm'));
    tfjs.results.forEach((r, i) => {
      t.is(close([wasm.results[i]!.loss!], [r.loss!]), undefined, `loss of step ${i + 1}`);
      t.is(close(wasm.results[i]!.predictions!.ctr!, r.predictions!.ctr!), undefined, `predictions of step ${i + 1}`);
    });
    t.is(close([wasm.ev.loss!], [tfjs.ev.loss!]), undefined, 'eval loss');
    t.is(close(wasm.dense.flatState, tfjs.dense.flatState), undefined, 'dense weights and optimizer slots');
    t.not(close(tfjs.dense.flatWeights, createSharedDenseParams(specOf(mlpModel, optimizer)).flatWeights), undefined, 'the weights moved');
    const fids = Uint32Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? i >> 1 : 1 << 16));
    t.is(close(wasm.tables.t!.lookupOnly(fids), tfjs.tables.t!.lookupOnly(fids)), undefined, 'embeddings (pooled-input gradients)');
  });
}

test('a model the kernels do not run falls back to tfjs; forcing wasm on it is a ConfigError that names the layer', (t) => {
  const withDropout = (): tfl.LayersModel => {
    const ins = [tfl.input({ shape: [4] }), tfl.input({ shape: [4] }), tfl.input({ shape: [2] })];
    const h = tfl.layers.dropout({ rate: 0.5, name: 'drop' }).apply(tfl.layers.concatenate().apply(ins)) as tfl.SymbolicTensor;
    return tfl.model({ inputs: ins, outputs: tfl.layers.dense({ units: 1 }).apply(h) as tfl.SymbolicTensor });
  };
  const spec = specOf(withDropout);
  const step = new TrainStep({ spec, tables: createModelTables(spec), dense: createSharedDenseParams(spec) });
  t.is(step.denseKernel, 'tfjs');
  t.is(step.run(tinyBatch(new Rng(1), 8), 'train').denseKernel, 'tfjs');
  const e = t.throws(() => new TrainStep({ spec, tables: createModelTables(spec), dense: createSharedDenseParams(spec), denseKernel: 'wasm' }), { instanceOf: ConfigError });
  t.regex(e!.message, /drop.*Dropout/);
});

test('MONOLITH_DENSE_KERNEL=tfjs forces tfjs on a model the kernels run; an unknown value is a ConfigError', (t) => {
  const spec = specOf(mlpModel);
  const make = () => new TrainStep({ spec, tables: createModelTables(spec), dense: createSharedDenseParams(spec) });
  const saved = process.env.MONOLITH_DENSE_KERNEL;
  try {
    delete process.env.MONOLITH_DENSE_KERNEL;
    t.is(make().denseKernel, 'wasm');
    process.env.MONOLITH_DENSE_KERNEL = 'tfjs';
    t.is(make().run(tinyBatch(new Rng(1), 8), 'train').denseKernel, 'tfjs');
    process.env.MONOLITH_DENSE_KERNEL = 'fast';
    t.throws(make, { instanceOf: ConfigError, message: /MONOLITH_DENSE_KERNEL=fast/ });
  } finally {
    if (saved === undefined) delete process.env.MONOLITH_DENSE_KERNEL;
    else process.env.MONOLITH_DENSE_KERNEL = saved;
  }
});

test('a batch of no rows predicts nothing on both kernels', (t) => {
  const spec = specOf(mlpModel);
  for (const denseKernel of ['tfjs', 'wasm'] as const) {
    const step = new TrainStep({ spec, tables: createModelTables(spec), dense: createSharedDenseParams(spec), denseKernel });
    const r = step.run(tinyBatch(new Rng(1), 0), 'predict');
    t.is(r.denseKernel, denseKernel);
    t.is(r.predictions!.ctr!.length, 0);
  }
});
