import test from 'ava';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createModel } from '../export/fixtures/tiny-model.js';
import { encodeInstances, randomRows, referencePredict, trainModel } from '../export/fixtures/train.js';
import { DistributedExporter, StandaloneExporter } from '../../src/export/exporters.js';
import { liveParams } from '../../src/export/params-source.js';
import { ROOT, tempDir } from '../helpers.js';

const run = promisify(execFile);
const CHILD = join(ROOT, 'dist', 'test', 'serving', 'fixtures', 'predict-child.js');

for (const mode of ['standalone', 'distributed'] as const) {
  test(`${mode} export → load in a fresh process → the same predictions as at training time`, async (t) => {
    const tr = trainModel(createModel());
    const base = await tempDir();
    const opts = { spec: tr.spec, exportDirBase: base, params: liveParams(tr.dense, tr.tables), clock: () => 1700000000 };
    if (mode === 'standalone') await new StandaloneExporter(opts).exportSavedModel();
    else await new DistributedExporter({ ...opts, numPs: 3 }).exportSavedModel();
    const rows = randomRows(tr, 40, 11);
    const recordsFile = join(base, 'records.json');
    await writeFile(recordsFile, JSON.stringify(encodeInstances(rows).map((b) => Buffer.from(b).toString('base64'))));
    const { stdout } = await run(process.execPath, [CHILD, base, recordsFile], { cwd: base });
    const child = JSON.parse(stdout) as { predictions: Record<string, number[]>; tableSizes: Record<string, number>; version: string };
    const want = referencePredict(tr, rows);
    t.is(child.version, '1700000000');
    t.deepEqual(child.tableSizes, { item: tr.tables.get('item')!.size, user: tr.tables.get('user')!.size });
    for (const head of ['ctr', 'value']) {
      t.is(child.predictions[head]!.length, 40);
      child.predictions[head]!.forEach((v, i) => t.true(Math.abs(v - want[head]![i]!) < 1e-5, `${head}[${i}]: ${v} vs ${want[head]![i]}`));
    }
  });
}
