import test from 'ava';
import { createOptimizer, type OptimizerConfig } from '../../src/hashtable/optimizers/index.js';
import { close } from './helpers.js';

/** Runs `steps` updates of a 2-dim segment from w0 and returns (w, dump). */
function run(c: OptimizerConfig, grads: number[][], w0 = [0.5, -0.25], lr?: number) {
  const o = createOptimizer(c, 2);
  const rows = new Float32Array(2 + o.stateWords);
  rows.set(w0);
  o.init(rows, 2);
  for (const g of grads) o.apply(rows, 0, 2, Float32Array.from(g), 0, lr ?? o.learningRate, 0);
  return { w: Array.from(rows.subarray(0, 2)), o, rows };
}
const G = [[0.1, -0.2], [0.3, 0.05], [-0.4, 0.2]];

test('defaults and dumps follow Monolith: adagrad lr 0.001 init 0.1, sgd 0.01, ftrl 0.01', (t) => {
  t.is(createOptimizer({ adagrad: {} }, 1).learningRate, 0.001);
  t.is(createOptimizer({ sgd: {} }, 1).learningRate, 0.01);
  t.is(createOptimizer({ ftrl: {} }, 1).learningRate, 0.01);
  const a = run({ adagrad: {} }, []);
  t.deepEqual(a.o.dump(a.rows, 2), { adagrad: { norm: [Math.fround(0.1), Math.fround(0.1)] } });
  t.deepEqual(run({ sgd: {} }, []).o.dump(new Float32Array(2), 2), { sgd: {} });
});

test('ftrl: per-coordinate FTRL-proximal', (t) => {
  const lr = 0.1, beta = 1, l1 = 0.01, l2 = 0.1, init = 0.1;
  const w = [0.5, -0.25], n = [init, init], z = [0, 0];
  for (const g of G) for (let i = 0; i < 2; i++) {
    const nn = n[i]! + g[i]! * g[i]!;
    z[i] += g[i]! - ((Math.sqrt(nn) - Math.sqrt(n[i]!)) / lr) * w[i]!;
    n[i] = nn;
    w[i] = Math.abs(z[i]!) > l1 ? (lr * (Math.sign(z[i]!) * l1 - z[i]!)) / (Math.sqrt(nn) + beta + l2 * lr) : 0;
  }
  const r = run({ ftrl: { learningRate: lr, beta, l1RegularizationStrength: l1, l2RegularizationStrength: l2 } }, G);
  t.true(close(r.w, w));
  const d = r.o.dump(r.rows, 2);
  t.true(close(d.ftrl!.norm!, n) && close(d.ftrl!.zero!, z));
});

test('ftrl learningRatePower: -1 is a Newton step on the accumulated squared gradients (L2 as the prior precision), 0 a fixed rate, > 0 refused', (t) => {
  // From zero state, one gradient g: w = -g / (g²/lr + l2) with power -1, -g / (|g|/lr + l2) with Monolith's -0.5.
  const lr = 1 / 512, l2 = 0.004, g = 0.01;
  const newton = run({ ftrl: { learningRate: lr, learningRatePower: -1, initialAccumulatorValue: 0, l2RegularizationStrength: l2 } }, [[g, -g]], [0, 0]);
  t.true(close(newton.w, [-g / ((g * g) / lr + l2), g / ((g * g) / lr + l2)]));
  const sqrt = run({ ftrl: { learningRate: lr, initialAccumulatorValue: 0, l2RegularizationStrength: l2 } }, [[g, -g]], [0, 0]);
  t.true(close(sqrt.w, [-g / (g / lr + l2), g / (g / lr + l2)]));
  t.true(Math.abs(newton.w[0]!) > 10 * Math.abs(sqrt.w[0]!), `${newton.w[0]} vs ${sqrt.w[0]}`);
  // Each step moves by -g·lr/n, n the squared gradients so far: -lr/g after the first, then ∓lr/(2g).
  const two = run({ ftrl: { learningRate: lr, learningRatePower: -1, initialAccumulatorValue: 0 } }, [[g, g], [g, -g]], [0, 0]);
  t.true(close(two.w, [-1.5 * (lr / g), -0.5 * (lr / g)]));
  // Power 0: a fixed rate lr, the proximal step of FTRL with no adaptive part.
  const fixed = run({ ftrl: { learningRate: 0.1, learningRatePower: 0, initialAccumulatorValue: 0, l2RegularizationStrength: 1 } }, [[g, g]], [0, 0]);
  t.true(close(fixed.w, [(-0.1 * g) / (1 + 0.1), (-0.1 * g) / (1 + 0.1)]));
  // No regularization and no gradient yet: the weight stays 0 (not 0/0).
  t.deepEqual(run({ ftrl: { learningRate: lr, learningRatePower: -1, initialAccumulatorValue: 0 } }, [[0, 0]], [0, 0]).w, [0, 0]);
  const e = t.throws(() => createOptimizer({ ftrl: { learningRatePower: 0.5 } }, 1, 'EntryConfig segment 2'));
  t.regex(e!.message, /EntryConfig segment 2: ftrl learningRatePower must be <= 0, got 0.5/);
});

test('adam and amsgrad with bias-corrected lr and epsilon', (t) => {
  for (const ams of [false, true]) {
    const b1 = 0.9, b2 = 0.99, eps = 0.01, lr0 = 0.05;
    const w = [0.5, -0.25], m = [0, 0], v = [0, 0], vh = [0, 0];
    let p1 = b1, p2 = b2;
    for (const g of G) {
      const lr = (lr0 * Math.sqrt(1 - p2)) / (1 - p1);
      for (let i = 0; i < 2; i++) {
        m[i] += (g[i]! - m[i]!) * (1 - b1);
        v[i] += (g[i]! * g[i]! - v[i]!) * (1 - b2);
        vh[i] = Math.max(vh[i]!, v[i]!);
        w[i] -= (m[i]! * lr) / (Math.sqrt(ams ? vh[i]! : v[i]!) + eps);
      }
      p1 *= b1;
      p2 *= b2;
    }
    const c = ams ? { amsgrad: { learningRate: lr0 } } : { adam: { learningRate: lr0 } };
    const r = run(c, G);
    t.true(close(r.w, w), `${ams ? 'amsgrad' : 'adam'} ${r.w} vs ${w}`);
    const d = r.o.dump(r.rows, 2);
    const x = ams ? d.amsgrad! : d.adam!;
    t.true(close([x.beta1Power!, x.beta2Power!], [p1, p2]));
  }
});

test('momentum (plain and nesterov), rmsprop, rmspropv2, adadelta', (t) => {
  for (const nesterov of [false, true]) {
    const lr = 0.1, mu = 0.9, w = [0.5, -0.25], n = [0, 0];
    for (const g of G) for (let i = 0; i < 2; i++) {
      const prev = n[i]!;
      n[i] = mu * prev - lr * g[i]!;
      w[i] += nesterov ? -mu * prev + (1 + mu) * n[i]! : n[i]!;
    }
    t.true(close(run({ momentum: { learningRate: lr, useNesterov: nesterov } }, G).w, w));
  }
  for (const v2 of [false, true]) {
    const lr = 0.1, mu = 0.9, w = [0.5, -0.25], n = [0, 0];
    for (const g of G) for (let i = 0; i < 2; i++) {
      n[i] = mu * n[i]! + (v2 ? 1 : 1 - mu) * g[i]! * g[i]!;
      w[i] -= (lr / (Math.sqrt(n[i]!) + 1)) * g[i]!;
    }
    t.true(close(run(v2 ? { rmspropv2: { learningRate: lr } } : { rmsprop: { learningRate: lr } }, G).w, w));
  }
  {
    const lr = 1, rho = 0.9, eps = 0.01, w = [0.5, -0.25], a = [0, 0], u = [0, 0];
    for (const g of G) for (let i = 0; i < 2; i++) {
      a[i] = a[i]! * rho + g[i]! * g[i]! * (1 - rho);
      const up = (Math.sqrt(u[i]! + eps) / Math.sqrt(a[i]! + eps)) * g[i]!;
      w[i] -= up * lr;
      u[i] = u[i]! * rho + up * up * (1 - rho);
    }
    t.true(close(run({ adadelta: { learningRate: lr } }, G).w, w));
  }
});

test('group adagrad and group ftrl zero a whole segment under strong regularization', (t) => {
  const ga = run({ groupAdagrad: { learningRate: 0.1, l2RegularizationStrength: 100 } }, G);
  t.deepEqual(ga.w, [0, 0]);
  const gf = run({ groupFtrl: { learningRate: 0.1, l1RegularizationStrength: 100 } }, G);
  t.deepEqual(gf.w, [0, 0]);
  const free = run({ groupAdagrad: { learningRate: 0.1 } }, G);
  t.true(free.w.some((x) => x !== 0));
  t.deepEqual(Object.keys(free.o.dump(free.rows, 2)), ['groupAdagrad']);
  t.deepEqual(Object.keys(gf.o.dump(gf.rows, 2)), ['groupFtrl']);
});

test('restore of a dump reproduces the state; a dump of another kind is refused', (t) => {
  const a = run({ adam: {} }, G);
  const d = a.o.dump(a.rows, 2);
  const fresh = new Float32Array(a.rows.length);
  t.true(a.o.restore(fresh, 2, d));
  t.deepEqual(Array.from(fresh.subarray(2)), Array.from(a.rows.subarray(2)));
  t.false(a.o.restore(fresh, 2, { sgd: {} }));
});

test('unsupported optimizers are a ConfigError naming the segment', (t) => {
  t.throws(() => createOptimizer({ dc: {} }, 2, 'table x segment 0'), { message: /table x segment 0: optimizer dc/ });
});
