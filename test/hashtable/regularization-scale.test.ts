import test from 'ava';
import { ConfigError, EmbeddingHashTable, type OptimizerConfig } from 'monolith-ts';

// Each optimizer with an L2-type regularization, as (strength) => config.
const optimizers: Record<string, (x: number) => OptimizerConfig> = {
  ftrl: (x) => ({ ftrl: { learningRate: 0.1, initialAccumulatorValue: 1e-3, beta: 0.01, l2RegularizationStrength: x } }),
  groupFtrl: (x) => ({ groupFtrl: { learningRate: 0.1, initialAccumulatorValue: 1e-3, beta: 0.01, l2RegularizationStrength: x } }),
  adagrad: (x) => ({ adagrad: { learningRate: 0.1, initialAccumulatorValue: 1e-3, weightDecayFactor: x } }),
  groupAdagrad: (x) => ({ groupAdagrad: { learningRate: 0.1, initialAccumulatorValue: 1e-3, weightDecayFactor: x } }),
  momentum: (x) => ({ momentum: { learningRate: 0.1, weightDecayFactor: x } }),
  adam: (x) => ({ adam: { learningRate: 0.1, weightDecayFactor: x } }),
  rmsprop: (x) => ({ rmsprop: { learningRate: 0.1, weightDecayFactor: x } }),
  adadelta: (x) => ({ adadelta: { learningRate: 0.5, weightDecayFactor: x } }),
};

const ids = BigUint64Array.of(1n, 2n, 3n, 2n);

/** Weights after 5 updates of the same gradients, with `scale` passed to every update. */
function trained(opt: OptimizerConfig, scale?: number): number[] {
  const t = EmbeddingHashTable.create({ seed: 1, entry: { segments: [{ dimSize: 3, initConfig: { randomUniform: { minval: -0.5, maxval: 0.5 } }, optConfig: opt }] } });
  t.lookup(ids);
  const g = Float32Array.from({ length: ids.length * 3 }, (_, i) => ((i * 7) % 5) / 10 - 0.2);
  for (let k = 0; k < 5; k++) t.applyGradients(ids, g, scale === undefined ? {} : { regularizationScale: scale });
  return Array.from(t.lookup(ids));
}

for (const [name, make] of Object.entries(optimizers)) {
  test(`regularizationScale multiplies ${name}'s L2 regularization: scale 3 trains as a 3x stronger configured strength`, (t) => {
    const scaled = trained(make(0.05), 3);
    const stronger = trained(make(0.15));
    scaled.forEach((v, i) => t.true(Math.abs(v - stronger[i]!) <= 1e-6 + 1e-5 * Math.abs(v), `weight ${i}: ${v} vs ${stronger[i]}`));
    t.notDeepEqual(scaled, trained(make(0.05)), 'scale 3 changes the weights');
    t.deepEqual(trained(make(0.05), 1), trained(make(0.05)), 'scale 1 is the default');
  });
}

test('regularizationScale multiplies the vocabulary regularization factor; a bad scale is a ConfigError', (t) => {
  const table = EmbeddingHashTable.create({ entry: { segments: [{ dimSize: 1, optConfig: optimizers.ftrl!(0.01), vocabularyRegularization: { exponent: 1, reference: 100 } }] } });
  table.lookup(BigUint64Array.from({ length: 400 }, (_, i) => BigInt(i + 1)));
  t.is(table.regularizationFactors()![0], 4);
  t.is(table.regularizationFactors(2)![0], 8);
  for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
    const e = t.throws(() => table.applyGradients(BigUint64Array.of(1n), Float32Array.of(0.1), { regularizationScale: bad }), { instanceOf: ConfigError });
    t.regex(e!.message, /regularizationScale must be a finite number >= 0/);
  }
});
