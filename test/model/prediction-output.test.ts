import test from 'ava';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Batch } from '../../src/batch/batch.js';
import { ConfigError } from '../../src/errors.js';
import { formatFloat32, formatPredictionRows, predictionFilePath, PredictionFileWriter } from '../../src/model/prediction-output.js';
import { tempDir } from '../helpers.js';

const batch = (): Batch => ({
  rows: 2,
  sparse: [{ name: 'tags', slot: 3, fids: Uint32Array.from([7, 3 << 16, 8, 3 << 16, 9, 0]), rowSplits: Int32Array.from([0, 2, 3]) }],
  dense: [{ name: 'vec', width: 2, values: Float32Array.from([0.5, -1, 2, 0.25]) }],
  labels: Float32Array.from([1, 0]),
  labelWidth: 1,
  lineId: [
    { name: 'uid', values: BigUint64Array.from([18446744073709551615n, 42n]) },
    { name: 'req_time', values: BigInt64Array.from([1700000000n, 1700000001n]) },
  ],
});

test('floats print as TensorFlow prints float32 (%.6g, %.9g when needed)', (t) => {
  t.deepEqual([0.5, 1 / 3, 1e-5, 123456789, 0, 2.5e10, -0.125, NaN, Infinity].map(formatFloat32), [
    '0.5',
    '0.333333343',
    '1e-05',
    '123456792',
    '0',
    '2.5e+10',
    '-0.125',
    'nan',
    'inf',
  ]);
  t.is(formatFloat32(Math.fround(0.1)), '0.1');
});

test('rows: output fields in order, then predictions; lists keep order, dicts are sorted by key; [rows,1] squeezed', (t) => {
  const preds = [
    { values: Float32Array.from([0.25, 0.75]), width: 1 },
    { values: Float32Array.from([1, 2, 3, 4]), width: 2 },
  ];
  t.is(
    formatPredictionRows(batch(), ['uid', 'req_time', 'vec', 'tags', 'label'], preds, '\t'),
    '18446744073709551615\t1700000000\t[0.5 -1]\t[844424930131975 844424930131976]\t1\t0.25\t[1 2]\n' +
      '42\t1700000001\t[2 0.25]\t[9]\t0\t0.75\t[3 4]\n',
  );
  const dict = { z_head: { values: Float32Array.from([1, 2]), width: 1 }, a_head: { values: Float32Array.from([3, 4]), width: 1 } };
  t.is(formatPredictionRows(batch(), ['uid'], dict, ','), '18446744073709551615,3,1\n42,4,2\n');
  t.throws(() => formatPredictionRows(batch(), ['nope'], [], ','), { instanceOf: ConfigError, message: /nope/ });
  t.throws(() => formatPredictionRows(batch(), [], [{ values: new Float32Array(3), width: 1 }], ','), { instanceOf: ConfigError });
});

test('part-{worker:05d}, written to a temp name and published on close', async (t) => {
  const dir = await tempDir();
  t.is(predictionFilePath(dir, 3), join(dir, 'part-00003'));
  const w = new PredictionFileWriter({ outputPath: dir, workerIndex: 3, outputFields: 'uid,label', delimiter: ' ' });
  await w.append(batch(), [{ values: Float32Array.from([0.5, 0.125]), width: 1 }]);
  await w.append(batch(), [{ values: Float32Array.from([1, 0]), width: 1 }]);
  t.false((await readdir(dir)).includes('part-00003'), 'nothing under the final name before close');
  await w.close();
  t.deepEqual(await readdir(dir), ['part-00003']);
  t.is(await readFile(join(dir, 'part-00003'), 'utf8'), '18446744073709551615 1 0.5\n42 0 0.125\n18446744073709551615 1 1\n42 0 0\n');
  t.is(w.rows, 4);
});
