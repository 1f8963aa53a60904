import test from 'ava';
import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { from, lastValueFrom, toArray, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { ConfigError, FormatError } from '../../../src/errors.js';
import { fileMetricSink, type FileCloseReason } from '../../../src/streams/sinks/file-metric-sink.js';
import { defaultLayoutFn, defaultParseFn, vepfsKeyFn, vepfsLayoutFn } from '../../../src/streams/sinks/metric-layout.js';
import { Rng } from '../../../src/util/random.js';
import { tempDir } from '../../helpers.js';

const lines = async (path: string) => (await readFile(path, 'utf8')).split('\n').filter((l) => l.length > 0);
const parts = async (dir: string) => (await readdir(dir)).filter((n) => !n.startsWith('.')).sort();

const seedRecord = {
  model_name: 'test_model',
  req_time: '20220927',
  userid: '1854',
  predict: { feed_comment: 0.5, click_comment: 0.2, feed_share: 0.2 },
  label: { feed_comment: 0, click_comment: 1, feed_share: 0 },
};

test('vepfsKeyFn: base/model/date/worker_N (metric_hook_test.test_vepfs_key_fn)', (t) => {
  t.is(vepfsKeyFn(seedRecord, 0, '/base'), '/base/test_model/20220927/worker_0');
  t.is(vepfsKeyFn({ req_time: 1664236800 }, 3, '/b'), '/b/model_name/20220927/worker_3', 'Unix seconds become a UTC date; model_name defaults');
  t.throws(() => vepfsKeyFn({ model_name: 'm' }, 0, '/b'), { instanceOf: FormatError, message: /req_time/ });
});

test('vepfsLayoutFn: the seed string byte for byte, gid falls back to "gid" (test_vepfs_layout_fn)', (t) => {
  t.is(
    vepfsLayoutFn(seedRecord),
    '20220927;gid;1854;{"feed_comment": 0.5, "click_comment": 0.2, "feed_share": 0.2};{"feed_comment": 0, "click_comment": 1, "feed_share": 0}',
  );
  t.is(vepfsLayoutFn({ __REQ_TIME__: 1, req_time: 2, __FEED_ID__: 'f', uid: 'u' }), '1;f;u;None;None');
});

test('defaultParseFn parses JSON text and bytes, passes objects; bad JSON is a FormatError; defaultLayoutFn writes Python-style JSON', (t) => {
  t.deepEqual(defaultParseFn('{"a":1}'), { a: 1 });
  t.deepEqual(defaultParseFn(Buffer.from('[1,2]')), [1, 2]);
  const obj = { x: 1 };
  t.is(defaultParseFn(obj), obj);
  t.throws(() => defaultParseFn('{nope'), { instanceOf: FormatError });
  t.is(defaultLayoutFn('as is'), 'as is');
  t.is(defaultLayoutFn({ a: [1, 'é'], b: null }), '{"a": [1, "\\u00e9"], "b": null}');
});

test('keyFn is required', (t) => {
  t.throws(() => fileMetricSink({} as never), { instanceOf: ConfigError, message: /keyFn/ });
});

test('metric_hook_test: 8 days × 64 records, batch 8, partition 32 → per day exactly 2 files of 32 lines', async (t) => {
  const base = await tempDir();
  const rng = new Rng(7);
  const heads = ['feed_comment', 'click_comment', 'feed_share'];
  const predicts = [0.01, 0.1, 0.2, 0.5, 0.9, 0.99];
  const days = Array.from({ length: 8 }, (_, i) => `202209${String(20 + i).padStart(2, '0')}`);
  const steps: string[][] = [];
  for (const day of days) {
    for (let i = 0; i < 64; i++) {
      const rv = {
        model_name: 'test_model',
        req_time: day,
        feedid: String(rng.int(1, 4096)),
        userid: String(rng.int(1, 4096)),
        predict: Object.fromEntries(heads.map((h) => [h, rng.choice(predicts)])),
        label: Object.fromEntries(heads.map((h) => [h, rng.choice([0, 1])])),
      };
      steps.push([JSON.stringify(rv)]);
    }
  }
  const out = await lastValueFrom(
    from(steps).pipe(fileMetricSink({ workerId: 0, keyFn: vepfsKeyFn, layoutFn: vepfsLayoutFn, batchSize: 8, partitionSize: 32, baseName: base }), toArray()),
  );
  t.is(out.length, 8 * 64);
  t.deepEqual(await parts(join(base, 'test_model')), days);
  for (const day of days) {
    const dir = join(base, 'test_model', day, 'worker_0');
    const names = await parts(dir);
    t.deepEqual(names, ['part_000000.txt', 'part_000001.txt'], day);
    for (const n of names) {
      const ls = await lines(join(dir, n));
      t.is(ls.length, 32);
      t.true(ls.every((l) => l.startsWith(`${day};`) && l.split(';').length === 5));
    }
  }
});

test('rotation is exact even when the batch size does not divide the partition size; no empty part is left', async (t) => {
  const base = await tempDir();
  const closed: { path: string; lines: number; reason: FileCloseReason }[] = [];
  const msgs = Array.from({ length: 70 }, (_, i) => ({ k: 'a', i }));
  await lastValueFrom(
    from([msgs]).pipe(fileMetricSink({ keyFn: (o) => join(base, o.k), batchSize: 5, partitionSize: 32, fileExt: 'json', onFileClosed: (e) => closed.push(e) })),
  );
  const dir = join(base, 'a');
  t.deepEqual(await parts(dir), ['part_000000.json', 'part_000001.json', 'part_000002.json']);
  t.deepEqual(
    await Promise.all((await parts(dir)).map(async (n) => (await lines(join(dir, n))).length)),
    [32, 32, 6],
  );
  const all = (await Promise.all((await parts(dir)).map((n) => lines(join(dir, n))))).flat().map((l) => JSON.parse(l).i);
  t.deepEqual(all, msgs.map((m) => m.i), 'every line once, in order');
  t.deepEqual(closed.map((c) => [c.lines, c.reason]), [[32, 'rotated'], [32, 'rotated'], [6, 'end']]);
});

test('files idle for 24 h are closed (virtual time); a key that comes back continues numbering instead of overwriting', async (t) => {
  const base = await tempDir();
  const closed: { key: string; lines: number; reason: FileCloseReason }[] = [];
  const H = 3600 * 1000;
  const scheduler = new TestScheduler((a, b) => t.deepEqual(a, b));
  let done!: Promise<unknown>;
  scheduler.run(({ cold }) => {
    // a at 0 h; b at 25 h (the check then finds a idle); a again at 26 h
    const source: Observable<unknown> = cold(`a ${25 * H - 1}ms b ${H - 1}ms c|`, {
      a: { k: 'a', v: 1 },
      b: { k: 'b', v: 2 },
      c: { k: 'a', v: 3 },
    });
    done = lastValueFrom(source.pipe(fileMetricSink({ keyFn: (o) => join(base, o.k), scheduler, onFileClosed: (e) => closed.push(e) }), toArray()));
  });
  const out = await done;
  t.is((out as unknown[]).length, 3);
  // Closing is asynchronous, so the events may land in any order: a's first file closed as idle (b arrived a
  // day later), a's second file and b's closed at the end.
  const byKey = closed.map((c) => [c.key.slice(base.length + 1), c.lines, c.reason]).sort();
  t.deepEqual(byKey, [['a', 1, 'end'], ['a', 1, 'idle'], ['b', 1, 'end']]);
  t.deepEqual(await parts(join(base, 'a')), ['part_000000.txt', 'part_000001.txt']);
  t.deepEqual(await lines(join(base, 'a', 'part_000000.txt')), ['{"k": "a", "v": 1}']);
  t.deepEqual(await lines(join(base, 'a', 'part_000001.txt')), ['{"k": "a", "v": 3}']);
});

test('parts already on disk from an earlier run are kept: numbering continues after them', async (t) => {
  const base = await tempDir();
  await mkdir(join(base, 'k'), { recursive: true });
  await writeFile(join(base, 'k', 'part_000004.txt'), 'old\n');
  await lastValueFrom(from([['x', 'y']]).pipe(fileMetricSink({ keyFn: () => join(base, 'k'), parseFn: (s) => s })));
  t.deepEqual(await parts(join(base, 'k')), ['part_000004.txt', 'part_000005.txt']);
  t.deepEqual(await lines(join(base, 'k', 'part_000005.txt')), ['x', 'y']);
});

test('a message that is not JSON errors the stream with a FormatError after flushing what was written', async (t) => {
  const base = await tempDir();
  const err = await t.throwsAsync(
    lastValueFrom(from([['{"k":"a"}'], ['{broken']]).pipe(fileMetricSink({ keyFn: (o) => join(base, o.k) }))),
    { instanceOf: FormatError },
  );
  t.regex(err!.message, /not JSON/);
  t.deepEqual(await lines(join(base, 'a', 'part_000000.txt')), ['{"k": "a"}']);
});

test('deepInsight → fileMetricSink: messages of training steps land in base/model/<UTC date>/worker_N in the vepfs layout', async (t) => {
  const { deepInsight } = await import('../../../src/streams/hooks/deep-insight.js');
  const base = await tempDir();
  const rows = 3;
  const result = {
    mode: 'train' as const,
    step: 1,
    examples: rows,
    predictions: { ctr: Float32Array.of(0.25, 0.5, 0.75) },
    labels: Float32Array.of(1, 0, 1),
    labelWidth: 1,
    batch: {
      rows, sparse: [], dense: [], labels: Float32Array.of(1, 0, 1), labelWidth: 1,
      lineId: [
        { name: 'uid', values: BigUint64Array.of(11n, 12n, 13n) },
        // 2022-09-27 00:00:00 UTC, then one day later
        { name: 'req_time', values: BigInt64Array.of(1_664_236_800n, 1_664_236_801n, 1_664_323_200n) },
        { name: 'sample_rate', values: Float32Array.of(1, 1, 1) },
      ],
    },
  };
  const passed = await lastValueFrom(
    from([result]).pipe(
      deepInsight({ modelName: 'ctr_model', target: 'ctr', sampler: () => true }),
      fileMetricSink({ keyFn: vepfsKeyFn, layoutFn: vepfsLayoutFn, baseName: base, workerId: 2 }),
      toArray(),
    ),
  );
  t.is(passed.length, 1);
  t.deepEqual(await parts(join(base, 'ctr_model')), ['20220927', '20220928']);
  t.deepEqual(await lines(join(base, 'ctr_model', '20220927', 'worker_2', 'part_000000.txt')), [
    '1664236800;gid;11;{"ctr": 0.25};{"ctr": 1}',
    '1664236801;gid;12;{"ctr": 0.5};{"ctr": 0}',
  ]);
  t.deepEqual(await lines(join(base, 'ctr_model', '20220928', 'worker_2', 'part_000000.txt')), ['1664323200;gid;13;{"ctr": 0.75};{"ctr": 1}']);
});
