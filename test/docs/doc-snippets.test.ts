import test from 'ava';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT } from '../helpers.js';
import { compileInConsumer, consumerProject, consumerWorkspace, runNode, type ConsumerProject } from '../helpers/consumer-project.js';
import { runnableBlocks, type CodeBlock } from './code-blocks.js';

// The docs are the test: every runnable ```ts block of README.md and docs/*.md (docs/code-examples.md says which)
// is written, exactly as printed, into a project that installed the packed tarball (no node-rdkafka), checked
// with `tsc --strict` and run with node, each in a folder of its own. Model modules (blocks exporting
// createModel) are also loaded through loadModel, as train() does in its worker threads.

const blocks = runnableBlocks(ROOT);
const isModelModule = (b: CodeBlock): boolean => /export (const|function) createModel\b/.test(b.code);

/** What some blocks must have done, beyond exiting with 0. */
const effects: Record<string, (t: import('ava').ExecutionContext, out: string, cwd: string) => Promise<void>> = {
  'README-1': async (t, out, cwd) => {
    t.regex(out, /trained 40 steps, last loss \d/);
    t.regex(out, /metrics: http:\/\/127\.0\.0\.1:\d+\/metrics/);
    t.true((await readdir(join(cwd, 'models', 'ctr'))).length >= 2, 'an export per checkpoint');
  },
};

let setup: Promise<{ project: ConsumerProject; ws: string }> | undefined;
/** Packs, installs, writes every block and compiles them all in one strict tsc run. */
function compiled(): Promise<{ project: ConsumerProject; ws: string }> {
  setup ??= (async () => {
    const project = await consumerProject();
    const ws = await consumerWorkspace(project, 'docs-');
    for (const b of blocks) {
      await writeFile(join(ws, `${b.id}.ts`), b.code);
      if (isModelModule(b)) {
        await writeFile(
          join(ws, `${b.id}.load.ts`),
          `import { loadModel } from 'monolith-ts';\n` +
            `const spec = await loadModel({ url: new URL('./${b.id}.js', import.meta.url).href });\n` +
            `console.log(JSON.stringify({ features: spec.features.map((f) => f.name), heads: spec.heads.map((h) => h.name) }));\n`,
        );
      }
    }
    await compileInConsumer(project, ws);
    return { project, ws };
  })();
  return setup;
}

test('the docs have runnable blocks (README: training, a model)', (t) => {
  t.true(blocks.filter((b) => b.doc === 'README.md').length >= 2);
  t.true(blocks.every((b) => !/from '\.\/src\//.test(b.code)), 'blocks import the package, not the repository');
});

test.serial('every runnable block compiles under tsc --strict in a consumer project', async (t) => {
  t.timeout(5 * 60_000);
  await t.notThrowsAsync(compiled());
});

for (const b of blocks) {
  test.serial(`${b.doc}:${b.line} runs as printed (${b.id})`, async (t) => {
    t.timeout(5 * 60_000);
    const { ws } = await compiled();
    const cwd = join(ws, `run-${b.id}`);
    await mkdir(cwd);
    const r = await runNode(join(ws, 'out', `${b.id}.js`), cwd);
    t.is(r.code, 0, `${b.doc}:${b.line} exited with ${r.code}\n${r.stderr}`);
    await effects[b.id]?.(t, r.stdout, cwd);
    if (isModelModule(b)) {
      const l = await runNode(join(ws, 'out', `${b.id}.load.js`), cwd);
      t.is(l.code, 0, l.stderr);
      const spec = JSON.parse(l.stdout.trim().split('\n').at(-1)!) as { features: string[]; heads: string[] };
      t.true(spec.features.length > 0 && spec.heads.length > 0, l.stdout);
    }
    t.true(existsSync(cwd));
  });
}

test.after('remove the workspace (kept when a test failed, for a look)', async () => {
  if (setup) await rm((await setup).ws, { recursive: true, force: true });
});
