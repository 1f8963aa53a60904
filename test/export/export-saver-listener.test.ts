import test from 'ava';
import { mkdir, rm, writeFile, access } from 'node:fs/promises';
import { join } from 'node:path';
import { ExportSaverListener, LATEST_VERSION_METRIC, type CheckpointExporter } from '../../src/export/export-saver-listener.js';
import { getExportSaverListenerState, overwriteExportSaverListenerState } from '../../src/export/export-state.js';
import { getGlobalStep } from '../../src/export/params-source.js';
import type { ExportCall } from '../../src/export/exporters.js';
import { ConfigError } from '../../src/errors.js';
import { tempDir } from '../helpers.js';

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** A checkpoint saver with max_to_keep: writes model.ckpt-<step>.index markers and drops the oldest. */
async function saveCheckpoint(modelDir: string, step: number, kept: number[], maxToKeep: number) {
  await writeFile(join(modelDir, `model.ckpt-${step}.index`), '');
  kept.push(step);
  while (kept.length > maxToKeep) await rm(join(modelDir, `model.ckpt-${kept.shift()}.index`));
}

test('basic: the export is recorded in the state with its step; metric emitted', async (t) => {
  const modelDir = await tempDir();
  const exportBase = join(modelDir, 'export');
  const calls: ExportCall[] = [];
  const exporter: CheckpointExporter = {
    async exportSavedModel(call) {
      calls.push(call);
      const dir = join(exportBase, '1700000000');
      await mkdir(dir, { recursive: true });
      return dir;
    },
  };
  const emitted: [string, number, Readonly<Record<string, string>> | undefined][] = [];
  const listener = new ExportSaverListener({ modelDir, exporter, metrics: { emitStore: (n, v, tags) => void emitted.push([n, v, tags]) } });
  await writeFile(join(modelDir, 'model.ckpt-10.index'), '');
  await listener.afterSave(10);
  t.deepEqual(calls, [{ checkpointPath: join(modelDir, 'model.ckpt-10'), globalStep: 10 }]);
  const state = await getExportSaverListenerState(exportBase);
  t.is(state.entries.length, 1);
  t.is(state.entries[0]!.exportDir, join(exportBase, '1700000000'));
  t.is(Number(state.entries[0]!.globalStep), 10);
  t.deepEqual(emitted, [[LATEST_VERSION_METRIC, 1700000000, { model_name: 'export' }]]);
});

test('exporter returning a map: every graph directory is recorded in its own base', async (t) => {
  const modelDir = await tempDir();
  const base = join(modelDir, 'export');
  const exporter: CheckpointExporter = {
    async exportSavedModel({ globalStep }) {
      const out: Record<string, string> = {};
      for (const g of ['entry', 'ps_0']) {
        out[g] = join(base, g, String(globalStep));
        await mkdir(out[g]!, { recursive: true });
      }
      return out;
    },
  };
  await writeFile(join(modelDir, 'model.ckpt-3.index'), '');
  const dirs = await new ExportSaverListener({ modelDir, exporter }).afterSave(3);
  t.is(dirs.length, 2);
  for (const g of ['entry', 'ps_0']) t.deepEqual((await getExportSaverListenerState(join(base, g))).entries.map((e) => e.exportDir), [join(base, g, '3')]);
});

test('exports whose checkpoint is gone are deleted (max_to_keep = 1); exempt ones stay', async (t) => {
  const modelDir = await tempDir();
  const base = join(modelDir, 'export');
  const exporter: CheckpointExporter = {
    async exportSavedModel({ globalStep }) {
      const dir = join(base, String(1000 + globalStep!));
      await mkdir(dir, { recursive: true });
      return dir;
    },
  };
  const kept: number[] = [];
  const listener = new ExportSaverListener({ modelDir, exporter, exemptCheckpointPaths: [join(modelDir, 'model.ckpt-1')] });
  for (const step of [1, 2, 3]) {
    await saveCheckpoint(modelDir, step, kept, 1);
    await listener.afterSave(step);
  }
  t.true(await exists(join(base, '1001')), 'exempt');
  t.false(await exists(join(base, '1002')), 'checkpoint 2 is gone');
  t.true(await exists(join(base, '1003')));
  t.deepEqual((await getExportSaverListenerState(base)).entries.map((e) => Number(e.globalStep)), [1, 3]);
});

test('dense_only keeps exports whose step the full model dir still has', async (t) => {
  const root = await tempDir();
  const denseModelDir = join(root, 'dense_ckpt');
  await mkdir(denseModelDir);
  const base = join(root, 'exports', 'entry');
  await writeFile(join(root, 'model.ckpt-5.index'), '');
  const exporter: CheckpointExporter = {
    async exportSavedModel({ globalStep }) {
      const dir = join(base, String(globalStep));
      await mkdir(dir, { recursive: true });
      return dir;
    },
  };
  await overwriteExportSaverListenerState(base, { entries: [{ exportDir: join(base, '5'), globalStep: 5 }] });
  await mkdir(join(base, '5'), { recursive: true });
  await writeFile(join(denseModelDir, 'model.ckpt-6.index'), '');
  await new ExportSaverListener({ modelDir: denseModelDir, exporter, denseOnly: true }).afterSave(6);
  t.deepEqual((await getExportSaverListenerState(base)).entries.map((e) => Number(e.globalStep)), [5, 6]);
  await new ExportSaverListener({ modelDir: denseModelDir, exporter }).afterSave(6);
  t.deepEqual((await getExportSaverListenerState(base)).entries.map((e) => Number(e.globalStep)), [6]);
});

test('getGlobalStep reads model.ckpt-<step> and names any other path', (t) => {
  t.is(getGlobalStep('/a/b/model.ckpt-123'), 123);
  t.is(getGlobalStep(' model.ckpt-0 '), 0);
  t.throws(() => getGlobalStep('/a/b/model.ckpt'), { instanceOf: ConfigError, message: /"\/a\/b\/model\.ckpt".*model\.ckpt-<step>/ });
  t.throws(() => new ExportSaverListener({ modelDir: '/x', exporter: { exportSavedModel: async () => undefined }, exemptCheckpointPaths: ['nope'] }), { instanceOf: ConfigError });
});
