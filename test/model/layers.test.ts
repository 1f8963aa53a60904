import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import { input, loadLayersModel, model as functionalModel, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EmbeddingSlice, FfmDot, FmInteraction, ReduceSum, StackEmbeddings } from '../../src/model/layers/embedding-layers.js';
import { DeepFMModel } from '../../src/model/models/deepfm.js';
import { TestFFMModel } from '../../src/model/models/test-ffm-model.js';
import { ROOT, tempDir } from '../helpers.js';
import { useCpu } from './tf-setup.js';

test.before(useCpu);

const run = (layer: { apply(x: tf.Tensor | tf.Tensor[]): unknown }, x: tf.Tensor | tf.Tensor[]) => (layer.apply(x) as tf.Tensor).arraySync();

test('EmbeddingSlice: columns of a pooled row, or of each of first_n rows', (t) => {
  const x = tf.tensor2d([[0, 1, 2, 3, 4, 5]]);
  t.deepEqual(run(new EmbeddingSlice({ rowDim: 6, start: 1, end: 4 }), x), [[1, 2, 3]]);
  t.deepEqual(run(new EmbeddingSlice({ rowDim: 3, start: 1, end: 3, seqLength: 2 }), x), [[[1, 2], [4, 5]]]);
  t.throws(() => new EmbeddingSlice({ rowDim: 3, start: 2, end: 4 }));
});

test('Stack, ReduceSum, FM interaction and FFM dot products by hand', (t) => {
  t.deepEqual(run(new StackEmbeddings({}), [tf.tensor2d([[1, 2]]), tf.tensor2d([[3, 4]])]), [[[1, 2], [3, 4]]]);
  t.deepEqual(run(new ReduceSum({}), tf.tensor2d([[1, 2, 3], [4, 5, 6]])), [[6], [15]]);
  // Fields (1,2), (3,−1), (.5,.5): pairwise dots 1 + 1.5 + 1 = 3.5.
  t.deepEqual(run(new FmInteraction({}), tf.tensor3d([[[1, 2], [3, -1], [0.5, 0.5]]])), [[3.5]]);
  t.deepEqual(run(new FfmDot({}), [tf.tensor2d([[1, 2]]), tf.tensor2d([[3, 4]]), tf.tensor2d([[1, 1, 1]]), tf.tensor2d([[2, 0, -1]])]), [[12]]);
});

async function saveToMemory(m: LayersModel): Promise<tf.io.ModelArtifacts> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await m.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return artifacts!;
}

function randomInputs(m: LayersModel, rows: number, seed: number): tf.Tensor[] {
  return m.inputs.map((i, k) => tf.randomUniform([rows, i.shape[1]!], -1, 1, 'float32', seed + k));
}

for (const [name, make] of [
  ['TestFFMModel', () => new TestFFMModel().toModelSpec()],
  ['DeepFM', () => new DeepFMModel({ sparseSlots: 4, denseFeatures: 3, hidden: [8] }).toModelSpec()],
] as const) {
  test(`${name}: save → load (fromMemory) gives the same outputs`, async (t) => {
    const dense = make().buildDense();
    const loaded = await loadLayersModel(tf.io.fromMemory(await saveToMemory(dense)));
    const xs = randomInputs(dense, 5, 1);
    t.deepEqual((loaded.predict(xs) as tf.Tensor).arraySync(), (dense.predict(xs) as tf.Tensor).arraySync());
  });
}

test('an exported DeepFM loads in a separate process that imports only tfjs and the layer module', async (t) => {
  const dense = new DeepFMModel({ sparseSlots: 3, denseFeatures: 2, hidden: [4] }).toModelSpec().buildDense();
  const a = await saveToMemory(dense);
  const dir = await tempDir();
  await writeFile(join(dir, 'model.json'), JSON.stringify({ modelTopology: a.modelTopology, weightSpecs: a.weightSpecs }));
  await writeFile(join(dir, 'weights.bin'), Buffer.from(a.weightData as ArrayBuffer));
  const xs = randomInputs(dense, 3, 7);
  await writeFile(join(dir, 'inputs.json'), JSON.stringify(xs.map((x) => x.arraySync())));
  const layersUrl = new URL('../../src/model/layers/embedding-layers.js', import.meta.url).href;
  const script = `
    import * as tf from '@tensorflow/tfjs-core';
    import '@tensorflow/tfjs-backend-cpu';
    import { loadLayersModel } from '@tensorflow/tfjs-layers';
    import { readFileSync } from 'node:fs';
    await import(${JSON.stringify(layersUrl)});
    await tf.setBackend('cpu');
    const dir = ${JSON.stringify(dir)};
    const { modelTopology, weightSpecs } = JSON.parse(readFileSync(dir + '/model.json', 'utf8'));
    const w = readFileSync(dir + '/weights.bin');
    const m = await loadLayersModel(tf.io.fromMemory({ modelTopology, weightSpecs, weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) }));
    const xs = JSON.parse(readFileSync(dir + '/inputs.json', 'utf8')).map((x) => tf.tensor2d(x));
    process.stdout.write(JSON.stringify(m.predict(xs).arraySync()));
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT });
  const want = (dense.predict(xs) as tf.Tensor).arraySync() as number[][];
  const got = JSON.parse(stdout) as number[][];
  got.forEach((row, i) => t.true(Math.abs(row[0]! - want[i]![0]!) < 1e-6, `${row[0]} vs ${want[i]![0]}`));
});

test('the custom layers serialise their config', (t) => {
  const x = input({ shape: [6] });
  const y = new EmbeddingSlice({ rowDim: 3, start: 0, end: 2, seqLength: 2 }).apply(x) as SymbolicTensor;
  const s = new ReduceSum({ axis: 2 }).apply(y) as SymbolicTensor;
  const m = functionalModel({ inputs: x, outputs: s });
  const json = JSON.stringify(m.toJSON(null, false));
  t.regex(json, /"class_name":"MonolithEmbeddingSlice".*"row_dim":3,"start":0,"end":2,"seq_length":2/);
  t.regex(json, /"class_name":"MonolithReduceSum".*"axis":2/);
});
