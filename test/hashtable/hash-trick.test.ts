import test from 'ava';
import { ConfigError } from '../../src/errors.js';
import { CollisionCounter, expectedCollisionRate, HashTrick } from '../../src/hashtable/hash-trick.js';
import { SyntheticCtr } from '../../src/streams/sources/synthetic-ctr.js';

/** fid v1 words of (slot, id < 2^32). */
const v1 = (slot: number, id: number): [number, number] => [id >>> 0, (slot << 22) >>> 0];
const words = (pairs: [number, number][]): Uint32Array => Uint32Array.from(pairs.flat());

test('mapping keeps the slot, puts the id in [0, buckets) and is a pure function of the fid', (t) => {
  const trick = new HashTrick({ buckets: 97 });
  const fids = words([v1(1, 5), v1(1, 5), v1(26, 5), v1(1023, 0xffffffff), v1(3, 123456789)]);
  const out = trick.mapFids(fids);
  for (let i = 0; i < fids.length; i += 2) {
    t.true(out[i]! < 97);
    t.is(out[i + 1], (fids[i + 1]! & 0xffc00000) >>> 0);
  }
  t.is(out[0], out[2], 'same fid, same bucket');
  t.deepEqual(Array.from(new HashTrick({ buckets: 97 }).mapFids(fids)), Array.from(out), 'deterministic');
  // in place
  const copy = fids.slice();
  trick.mapFids(copy, copy);
  t.deepEqual(Array.from(copy), Array.from(out));
});

test('the high id bits below the slot are hashed away (fid v1 and v2 slot widths)', (t) => {
  const v1Trick = new HashTrick({ buckets: 1 << 20 });
  const [lo, hi] = [7, ((5 << 22) | 0x3abcd) >>> 0];
  const m = v1Trick.mapFids(Uint32Array.of(lo, hi));
  t.is(m[1], (5 << 22) >>> 0);
  const v2Trick = new HashTrick({ buckets: 1 << 20, slotBits: 15 });
  const hi2 = ((9 << 17) | 0x1ffff) >>> 0;
  t.is(v2Trick.mapFids(Uint32Array.of(1, hi2))[1], (9 << 17) >>> 0);
});

test('one bucket: every id collides with every other; a hashed batch keeps rows and splits', (t) => {
  const trick = new HashTrick({ buckets: 1 });
  const gen = new SyntheticCtr({ seed: 3, sparseSlots: 4, denseFeatures: 2, vocabSize: 50 });
  const batch = gen.nextBatch(64);
  const mapped = trick.mapBatch(batch);
  t.is(mapped.rows, 64);
  for (const [s, c] of mapped.sparse.entries()) {
    t.is(c.rowSplits, batch.sparse[s]!.rowSplits);
    for (let i = 0; i < c.fids.length; i += 2) t.is(c.fids[i], 0);
    t.not(c.fids, batch.sparse[s]!.fids, 'the source batch is not modified');
  }
  const counter = new CollisionCounter(trick);
  counter.addBatch(batch);
  t.true(counter.distinct > 4);
  t.is(counter.colliding, counter.distinct, 'slots with one distinct id would not collide; 64 Zipf rows over 50 ids give several per slot');
  t.is(counter.usedBuckets, 4, 'one bucket per slot');
  t.is(counter.rate, 1);
});

test('collision counting: repeated fids count once, different slots never collide, pairs and triples', (t) => {
  // Find ids by their buckets under a small table so the expected counts are known.
  const trick = new HashTrick({ buckets: 16, seed: 11 });
  const byBucket = new Map<number, number[]>();
  for (let id = 0; id < 200; id++) {
    const b = trick.bucketOf(...v1(2, id));
    byBucket.set(b, [...(byBucket.get(b) ?? []), id]);
  }
  const buckets = [...byBucket.values()].filter((ids) => ids.length >= 3);
  const [a, b, c] = buckets[0]!; // three ids sharing a bucket in slot 2
  const [d, e] = buckets[1]!; // two ids sharing another bucket
  const counter = new CollisionCounter(trick);
  counter.add(words([v1(2, a!), v1(2, a!), v1(2, a!)]));
  t.is(counter.distinct, 1);
  t.is(counter.colliding, 0);
  counter.add(words([v1(2, b!), v1(3, a!)])); // a and b collide; a in slot 3 is another fid, alone in its slot
  t.is(counter.distinct, 3);
  t.is(counter.colliding, 2);
  counter.add(words([v1(2, c!), v1(2, d!), v1(2, e!), v1(2, c!)]));
  t.is(counter.distinct, 6);
  t.is(counter.colliding, 5);
  t.is(counter.rate, 5 / 6);
  t.is(counter.usedBuckets, 3);
});

test('measured collision rate matches 1 - (1 - 1/B)^(n-1) for uniform ids', (t) => {
  const B = 2000;
  const n = 2000;
  const counter = new CollisionCounter(new HashTrick({ buckets: B }));
  counter.add(words(Array.from({ length: n }, (_, i) => v1(1, i * 7919 + 13))));
  const expected = expectedCollisionRate(n, B); // ≈ 0.632
  t.true(Math.abs(counter.rate - expected) < 0.03, `rate ${counter.rate} vs expected ${expected}`);
  t.is(expectedCollisionRate(1, 10), 0);
  t.is(new CollisionCounter(new HashTrick({ buckets: 5 })).rate, 0);
});

test('bad options are ConfigErrors', (t) => {
  t.throws(() => new HashTrick({ buckets: 0 }), { instanceOf: ConfigError, message: /buckets/ });
  t.throws(() => new HashTrick({ buckets: 1.5 }), { instanceOf: ConfigError });
  t.throws(() => new HashTrick({ buckets: 8, slotBits: 12 as 10 }), { instanceOf: ConfigError, message: /slotBits/ });
  t.throws(() => new HashTrick({ buckets: 8 }).mapFids(Uint32Array.of(1, 2, 3)), { instanceOf: ConfigError, message: /pairs/ });
});
