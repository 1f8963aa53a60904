import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { liveParams, StandaloneExporter } from 'monolith-ts';
import { createModel } from './fixtures/tiny-model.js';
import { trainModel } from './fixtures/train.js';
import { tempDir } from '../helpers.js';

test('a successful export removes the temp export directories killed exports left, not those of live processes', async (t) => {
  const tr = trainModel(createModel());
  const base = await tempDir();
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const stale = `.1699999999.tmp-${dead}-123456789`;
  const live = `.1699999998.tmp-${process.pid}-987654321`;
  for (const d of [stale, live]) {
    await mkdir(join(base, d, 'dense'), { recursive: true });
    await writeFile(join(base, d, 'dense', 'weights.bin'), 'partial');
  }
  await new StandaloneExporter({ spec: tr.spec, exportDirBase: base, params: liveParams(tr.dense, tr.tables), clock: () => 1700000000 }).exportSavedModel();
  t.deepEqual((await readdir(base)).sort(), [live, '1700000000'].sort());
});
