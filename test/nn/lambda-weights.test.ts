import test from 'ava';
import { ConfigError } from '../../src/errors.js';
import { createNdcgLambdaWeight, createReciprocalRankLambdaWeight, DCGLambdaWeight } from '../../src/nn/dcg-lambda-weight.js';
import { IdentityLambdaWeight } from '../../src/nn/lambda-weight.js';
import { createPListMleLambdaWeight, ListMLELambdaWeight } from '../../src/nn/list-mle-lambda-weight.js';
import { PrecisionLambdaWeight } from '../../src/nn/precision-lambda-weight.js';
import { ln, near, useCpu } from './helpers.js';

test.before(useCpu);

// Expected values: TF-Ranking v0.1 losses_test.py (DCGLambdaWeightTest, PrecisionLambdaWeightTest).

test('DCGLambdaWeight default: relative rank diff discount (LambdaLoss)', (t) => {
  near(t, new DCGLambdaWeight().pairWeights([[2, 1, 0]]), [[[0, 1 / 2, (2 * 1) / 6], [1 / 2, 0, 1 / 2], [(2 * 1) / 6, 1 / 2, 0]]]);
});

test('DCGLambdaWeight smooth_fraction 1: absolute rank discount (LambdaMART), with and without topn', (t) => {
  near(t, new DCGLambdaWeight({ smoothFraction: 1 }).pairWeights([[2, 1, 0]]), [[[0, 1 / 2, (2 * 2) / 3], [1 / 2, 0, 1 / 6], [(2 * 2) / 3, 1 / 6, 0]]]);
  near(t, new DCGLambdaWeight({ topn: 1, smoothFraction: 1 }).pairWeights([[2, 1, 0]]), [[[0, 1, 2], [1, 0, 0], [2, 0, 0]]]);
});

test('DCGLambdaWeight topn: ranks capped at topn + 1, pairs outside the top n dropped', (t) => {
  near(t, new DCGLambdaWeight({ topn: 1 }).pairWeights([[2, 1, 0]]), [[[0, 1 / 2, (2 * 1) / 2], [1 / 2, 0, 0], [(2 * 1) / 2, 0, 0]]]);
});

test('DCGLambdaWeight: pairs with an invalid label weigh 0', (t) => {
  near(t, new DCGLambdaWeight().pairWeights([[2, 1, -1]]), [[[0, 1 / 2, 0], [1 / 2, 0, 0], [0, 0, 0]]]);
});

test('DCGLambdaWeight gain and discount functions', (t) => {
  const w = new DCGLambdaWeight({ gainFn: (x) => 2 ** x - 1, rankDiscountFn: (r) => 1 / Math.log1p(r) });
  const v = 2 * (1 / ln(2) - 1 / ln(3));
  near(t, w.pairWeights([[2, 1]]), [[[0, v], [v, 0]]]);
});

test('DCGLambdaWeight normalized pair and individual weights', (t) => {
  const w = new DCGLambdaWeight({ normalized: true });
  const maxDcg = 2.5;
  near(t, w.pairWeights([[1, 2]]), [[[0, 1 / 2 / maxDcg], [1 / 2 / maxDcg, 0]]]);
  near(t, w.individualWeights([[1, 2]]), [[1 / maxDcg / 1, 2 / maxDcg / 2]]);
  // invalid labels count as 0
  near(t, w.individualWeights([[1, -1, 2]]), [[1 / 2.5, 0, 2 / 2.5 / 3]]);
});

test('create_ndcg_lambda_weight / create_reciprocal_rank_lambda_weight / create_p_list_mle_lambda_weight', (t) => {
  const maxDcg = 3 / ln(2) + 1 / ln(3);
  const v = (2 * (1 / ln(2) - 1 / ln(3))) / maxDcg;
  near(t, createNdcgLambdaWeight().pairWeights([[2, 1]]), [[[0, v], [v, 0]]]);
  near(t, createReciprocalRankLambdaWeight().pairWeights([[1, 2]]), [[[0, 1 / 2 / 2.5], [1 / 2 / 2.5, 0]]]);
  near(t, createPListMleLambdaWeight(2).individualWeights([[1, 2]]), [[1, 0]]);
  near(t, createPListMleLambdaWeight(3).individualWeights([[5, 0, 1], [0, 0, 0]]), [[3, 1, 0], [3, 1, 0]]);
  t.true(createPListMleLambdaWeight(3) instanceof ListMLELambdaWeight);
  // smooth_fraction and topn reach the DCG weight
  const s = createNdcgLambdaWeight({ topn: 1, smoothFraction: 1 });
  t.is(s.topn, 1);
  t.is(s.smoothFraction, 1);
});

test('smooth_fraction outside [0, 1] is refused', (t) => {
  t.throws(() => new DCGLambdaWeight({ smoothFraction: 1.5 }), { instanceOf: ConfigError, message: 'smooth_fraction 1.5 should be in range [0, 1].' });
  t.throws(() => createNdcgLambdaWeight({ smoothFraction: -0.1 }), { instanceOf: ConfigError });
});

test('PrecisionLambdaWeight: 1 for a positive/negative pair straddling the top n', (t) => {
  near(t, new PrecisionLambdaWeight(5).pairWeights([[2, 1, 0]]), [[[0, 0, 0], [0, 0, 0], [0, 0, 0]]]);
  near(t, new PrecisionLambdaWeight(1).pairWeights([[2, 1, 0]]), [[[0, 0, 1], [0, 0, 0], [1, 0, 0]]]);
  near(t, new PrecisionLambdaWeight(1, (l) => l >= 2).pairWeights([[2, 1, -1]]), [[[0, 1, 0], [1, 0, 0], [0, 0, 0]]]);
});

test('IdentityLambdaWeight and ListMLELambdaWeight pair weights', (t) => {
  near(t, new IdentityLambdaWeight().pairWeights([[1, 0]]), [1]);
  near(t, new ListMLELambdaWeight((r) => 1 / r).pairWeights([[3, 1]]), [[3, 1]]);
  near(t, new IdentityLambdaWeight().individualWeights([[3, 1]]), [[3, 1]]);
});
