import test from 'ava';
import { setTimeout as tick } from 'node:timers/promises';
import {
  enterExportMode,
  ExportContext,
  ExportMode,
  exportMode,
  getCurrentExportCtx,
  isDryRunOrExporting,
  isExporting,
  isExportingDistributed,
  isExportingStandalone,
  runDryRun,
} from '../../src/export/export-context.js';
import { ConfigError } from '../../src/errors.js';

test('modes are visible inside enterExportMode only and reset after a throw', async (t) => {
  t.false(isExporting());
  t.is(getCurrentExportCtx(), undefined);
  await enterExportMode(ExportMode.STANDALONE, async (ctx) => {
    await tick(1);
    t.true(isExporting() && isExportingStandalone() && !isExportingDistributed());
    t.is(getCurrentExportCtx(), ctx);
  });
  t.is(exportMode(), ExportMode.NONE);
  await t.throwsAsync(
    enterExportMode(ExportMode.DISTRIBUTED, async () => {
      t.true(isExportingDistributed());
      throw new Error('boom');
    }),
    { message: 'boom' },
  );
  t.false(isExporting());
  t.is(getCurrentExportCtx(), undefined);
});

test('nested export mode is refused', (t) => {
  enterExportMode(ExportMode.STANDALONE, () => {
    t.throws(() => enterExportMode(ExportMode.DISTRIBUTED, () => 1), { instanceOf: ConfigError, message: /nested/ });
  });
  t.false(isExporting());
});

test('two exports running concurrently each see their own context', async (t) => {
  const seen: [string, ExportMode, ExportContext | undefined][] = [];
  const run = (name: string, mode: ExportMode.STANDALONE | ExportMode.DISTRIBUTED) =>
    enterExportMode(mode, async (ctx) => {
      for (let i = 0; i < 3; i++) {
        await tick(1);
        seen.push([name, exportMode(), getCurrentExportCtx()]);
        t.is(getCurrentExportCtx(), ctx);
      }
      ctx.addSignature('entry', name, {}, {});
      return ctx;
    });
  const [a, b] = await Promise.all([run('a', ExportMode.STANDALONE), run('b', ExportMode.DISTRIBUTED)]);
  t.deepEqual(a.signatures('entry').map((s) => s.name), ['a']);
  t.deepEqual(b.signatures('entry').map((s) => s.name), ['b']);
  for (const [name, mode] of seen) t.is(mode, name === 'a' ? ExportMode.STANDALONE : ExportMode.DISTRIBUTED);
});

test('signatures are kept per graph; merge adds to an existing one or creates it', (t) => {
  const ctx = new ExportContext(true);
  t.true(ctx.withRemoteGpu);
  ctx.addSignature('entry', 'serving_default', { instances: { dtype: 'string', shape: [-1] } }, { ctr: { dtype: 'float32', shape: [-1] } });
  ctx.mergeSignature('entry', 'serving_default', {}, { cvr: { dtype: 'float32', shape: [-1] } });
  ctx.mergeSignature('ps_0', 'lookup', { id: { dtype: 'int64', shape: [-1] } });
  t.deepEqual(Object.keys(ctx.signature('entry', 'serving_default')!.outputs), ['ctr', 'cvr']);
  t.deepEqual(ctx.signature('ps_0', 'lookup'), { name: 'lookup', inputs: { id: { dtype: 'int64', shape: [-1] } }, outputs: {} });
  t.deepEqual(ctx.signatures('dense_0'), []);
  ctx.subGraphs.add('ps_0');
  t.is(ctx.subGraphNum, 1);
});

test('dry run counts as dry-run-or-exporting', (t) => {
  t.false(isDryRunOrExporting());
  runDryRun(() => t.true(isDryRunOrExporting() && !isExporting()));
  enterExportMode(ExportMode.STANDALONE, () => t.true(isDryRunOrExporting()));
  t.false(isDryRunOrExporting());
});
