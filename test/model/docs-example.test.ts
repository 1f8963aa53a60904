// The model of docs/model.md, compiled and checked against what the document says.
import test from 'ava';
import { layers, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { MonolithModel, type ModelFnOutput } from '../../src/model/monolith-model.js';
import { FmInteraction } from '../../src/model/layers/embedding-layers.js';
import { getSigmoidLossAndPred } from '../../src/model/loss-and-pred.js';
import { labelColumn } from '../../src/model/default-loss.js';
import { useCpu } from './tf-setup.js';

test.before(useCpu);

class CtrModel extends MonolithModel {
  override modelFn(): ModelFnOutput {
    const user = this.createEmbeddingFeatureColumn('user_id', { occurrenceThreshold: 3 });
    this.createEmbeddingFeatureColumn('item_id', { expireTime: 30 });
    this.createEmbeddingFeatureColumn('clicked_items', { sharedName: 'item_id', maxSeqLength: 10 });

    const fields = this.lookupEmbeddingSlice([user, 'item_id'], 'vec', { sliceDim: 8, outType: 'stack' }) as SymbolicTensor;
    const [history] = this.lookupEmbeddingSlice({ clicked_items: 8 }, 'vec') as SymbolicTensor[];
    const ctx = this.denseInput('context', 4);

    const deep = layers.concatenate().apply([layers.flatten().apply(fields), layers.flatten().apply(history!), ctx] as SymbolicTensor[]) as SymbolicTensor;
    const hidden = layers.dense({ units: 32, activation: 'relu' }).apply(deep) as SymbolicTensor;
    const logit = layers.add().apply([layers.dense({ units: 1 }).apply(hidden), new FmInteraction({}).apply(fields)] as SymbolicTensor[]) as SymbolicTensor;

    return {
      heads: [{ name: 'ctr_head', logit }],
      loss: ({ logits, labels, weights }) => getSigmoidLossAndPred({ logits: logits[0]!, label: labelColumn(labels, 0), instanceWeight: weights ?? null }).loss!,
    };
  }
}

test('the docs/model.md example builds the spec the document describes', (t) => {
  const spec = new CtrModel().toModelSpec();
  t.deepEqual(spec.features.map((f) => [f.name, f.dim, f.combiner, f.table]), [
    ['user_id', 8, 'reduce_sum', 'user_id'],
    ['item_id', 8, 'reduce_sum', 'item_id'],
    ['clicked_items', 8, 'first_n', 'item_id'],
  ]);
  t.deepEqual(Object.keys(spec.tables), ['user_id', 'item_id']);
  t.deepEqual(spec.tables['user_id']!.occurrenceThreshold, { default: 3, slots: { 1: 3 } });
  t.deepEqual(spec.tables['item_id']!.expireTime, { default: 30, slots: { 2: 30 } });
  const dense = spec.buildDense();
  t.deepEqual(dense.inputs.map((i) => i.shape[1]), [8, 8, 80, 4]);
  const loss = spec.loss!({ logits: [tf.zeros([2, 1])], labels: tf.tensor2d([[1], [0]]) });
  t.true(Math.abs((loss.arraySync() as number) - 2 * Math.LN2) < 1e-6);
});
