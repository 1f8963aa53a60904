import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { createModel } from '../export/fixtures/tiny-model.js';
import { trainModel } from '../export/fixtures/train.js';
import { saveDenseCheckpoint } from '../../src/export/params-source.js';
import { saveTable } from '../../src/hashtable/checkpoint.js';
import { ckptAssetDir } from '../../src/hashtable/checkpoint-listeners.js';
import { ROOT, tempDir } from '../helpers.js';

const run = promisify(execFile);
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const MODEL = join(ROOT, 'dist', 'test', 'export', 'fixtures', 'tiny-model.js');
const cli = (...args: string[]) => run(process.execPath, [CLI, ...args], { env: { ...process.env, MONOLITH_LOG: 'warn' } });

test('export from a checkpoint, predict, warmup decode, visualize, serve + predict-client through the CLI', async (t) => {
  const tr = trainModel(createModel());
  const modelDir = await tempDir();
  const prefix = join(modelDir, 'model.ckpt-77');
  await saveDenseCheckpoint(tr.dense, prefix);
  for (const [name, table] of tr.tables) await saveTable(table, join(ckptAssetDir(prefix), name));
  const exportBase = join(modelDir, 'exports');

  const exp = await cli('export', '--model-module', MODEL, '--model-dir', modelDir, '--export-base', exportBase, '--export-mode', 'distributed', '--num-ps', '2', '--global-step-as-timestamp');
  t.regex(exp.stdout, /entry: .*entry\/77/);
  t.regex(exp.stdout, /ps_1: .*ps_1\/77/);

  const pred = await cli('predict', '--saved-model-path', exportBase, '--batch-size', '4');
  const outputs = JSON.parse(pred.stdout);
  t.deepEqual(outputs.ctr.shape, [4]);
  t.true(outputs.ctr.values.every((p: number) => p > 0 && p < 1));

  const entry = join(exportBase, 'entry', '77');
  const dec = await cli('warmup', 'decode', join(entry, 'assets.extra', 'tf_serving_warmup_requests'));
  t.regex(dec.stdout, /request 1 \(predict_log\)/);
  t.regex(dec.stdout, /signature_name: "serving_default"/);
  t.regex(dec.stdout, /string_val: \.\.\./);

  const vis = await cli('visualize', exportBase, '--output', join(modelDir, 'm.html'));
  t.regex(vis.stdout, /wrote .*m\.html/);
  t.regex(await readFile(join(modelDir, 'm.html'), 'utf8'), /<title>tiny entry 77<\/title>/);
  // by default the page goes to the current directory, not into the served export
  const vis2 = await run(process.execPath, [CLI, 'visualize', exportBase], { cwd: modelDir, env: { ...process.env, MONOLITH_LOG: 'warn' } });
  t.regex(vis2.stdout, /wrote entry-77\.html/);
  t.regex(await readFile(join(modelDir, 'entry-77.html'), 'utf8'), /<title>tiny entry 77<\/title>/);
  t.false((await readdir(entry)).some((f) => f.endsWith('.html')));

  const server = spawn(process.execPath, [CLI, 'serve', `--model_base_path=${join(exportBase, 'entry')}`, '--port=0', '--rest_api_port', '0', '--file_system_poll_wait_seconds', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    let out = '';
    server.stdout.setEncoding('utf8');
    while (!/REST API on (\S+)\n/.test(out)) {
      const [chunk] = (await Promise.race([once(server.stdout, 'data'), once(server, 'exit').then(() => ['EXIT'])])) as string[];
      if (chunk === 'EXIT') throw new Error(`serve exited: ${out}`);
      out += chunk;
    }
    t.regex(out, /serving default version 77 on 127\.0\.0\.1:\d+/);
    const addr = / on (\S+)\n/.exec(out)![1]!;
    const rest = /REST API on (\S+)\n/.exec(out)![1]!;
    t.regex(rest, /^http:\/\/127\.0\.0\.1:\d+$/);
    const status = (await (await fetch(`${rest}/v1/models/default`)).json()) as { model_version_status: { version: string; state: string }[] };
    t.deepEqual(status.model_version_status.map((s) => [s.version, s.state]), [['77', 'AVAILABLE']]);
    const res = await cli('predict-client', '--server', addr, '--batch-size', '3', '--slots', '1,2,3');
    const o = JSON.parse(res.stdout);
    t.deepEqual(o.ctr.shape, [3]);
    t.deepEqual(o.value.shape, [3]);
    t.regex(res.stderr, /signatures: .*serving_default/);
    const bad = await t.throwsAsync(cli('predict-client', '--server', addr, '--model-name', 'nope'));
    t.regex((bad as Error & { stderr: string }).stderr, /NOT_FOUND|not found/);
  } finally {
    server.kill('SIGTERM');
    await once(server, 'exit');
  }

  // TF Serving's --model_config_file: the model's name, base path and version labels come from it.
  const config = join(modelDir, 'models.config');
  await writeFile(config, `model_config_list {\n  config {\n    name: 'ctr'\n    base_path: '${join(exportBase, 'entry')}'\n    model_platform: 'tensorflow'\n    version_labels { key: 'stable' value: 77 }\n    version_labels { key: 'canary' value: 78 }\n  }\n}\n`);
  const labelled = spawn(process.execPath, [CLI, 'serve', `--model_config_file=${config}`, '--port=0', '--rest_api_port', '0', '--file_system_poll_wait_seconds', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    let out = '';
    labelled.stdout.setEncoding('utf8');
    while (!/REST API on (\S+)\n/.test(out)) {
      const [chunk] = (await Promise.race([once(labelled.stdout, 'data'), once(labelled, 'exit').then(() => ['EXIT'])])) as string[];
      if (chunk === 'EXIT') throw new Error(`serve exited: ${out}`);
      out += chunk;
    }
    t.regex(out, /serving ctr version 77 on /);
    const rest = /REST API on (\S+)\n/.exec(out)![1]!;
    const status = await fetch(`${rest}/v1/models/ctr/labels/stable`);
    t.is(status.status, 200);
    t.deepEqual(((await status.json()) as { model_version_status: { version: string }[] }).model_version_status.map((v) => v.version), ['77']);
    // a label of a version that is not loaded is not found; an unknown label is a bad request
    t.is((await fetch(`${rest}/v1/models/ctr/labels/canary`)).status, 404);
    t.is((await fetch(`${rest}/v1/models/ctr/labels/nope`)).status, 400);
  } finally {
    labelled.kill('SIGTERM');
    await once(labelled, 'exit');
  }
  // one model per process: a config listing two is refused by name
  await writeFile(config, `model_config_list { config { name: 'a' base_path: '${exportBase}' } config { name: 'b' base_path: '${exportBase}' } }`);
  const two = await run(process.execPath, [CLI, 'serve', '--model-config-file', config, '--port', '0']).catch((e: { stderr: string; code: number }) => e);
  t.regex((two as { stderr: string }).stderr, /models\.config, field model_config_list\.config: lists 2 models; monolith-ts serve serves one model per process/);
});
