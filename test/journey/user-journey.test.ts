import test from 'ava';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readRecordFile } from '../../src/io/record-file.js';
import { codeBlocks } from '../docs/code-blocks.js';
import { ROOT } from '../helpers.js';
import { compileInConsumer, consumerProject, consumerWorkspace, runNode, type RunResult } from '../helpers/consumer-project.js';
import { startServe } from '../helpers/serve-process.js';
import { predictRecords, tfServingDescriptors } from '../helpers/tf-serving-client.js';

// A user's journey as README.md's "Train your own model on your own files" prints it, from the packed
// tarball installed in a fresh project (no node-rdkafka): the section's model module (importing 'monolith-ts')
// is compiled with the consumer's strict tsc, and every `npx monolith-ts …` line of its shell block runs as
// printed (datagen → train with 2 workers → eval on held-out → predict --data → export → serve), `serve` on
// free ports instead of 8500/8501. Then a Predict over gRPC by an independent @bufbuild/protobuf client and a
// REST :predict with fetch, both sending the held-out file's records as they are.

const SECTION = '## Train your own model on your own files';

/** The section's ts block (the model module) and the commands of its sh block, as argv lists. */
function readmeJourney(markdown: string): { model: string; commands: string[][] } {
  const start = markdown.indexOf(`${SECTION}\n`);
  if (start < 0) throw new Error(`README.md has no section "${SECTION}"`);
  const next = markdown.indexOf('\n## ', start + SECTION.length);
  const section = markdown.slice(start, next < 0 ? undefined : next);
  const model = codeBlocks(section, 'ts')[0]?.code;
  const sh = codeBlocks(section, 'sh')[0]?.code;
  if (!model || !sh) throw new Error(`"${SECTION}" needs a ts block (the model module) and an sh block (the commands)`);
  const commands = sh
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.replace(/\s#.*$/, '').trim())
    .filter((l) => l.length > 0)
    .map((l) => [...l.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!));
  for (const c of commands) if (c[0] !== 'npx' || c[1] !== 'monolith-ts') throw new Error(`not a monolith-ts command: ${c.join(' ')}`);
  return { model, commands: commands.map((c) => c.slice(2)) };
}

test('user journey as the README prints it: own model module → datagen → train (2 workers) → eval → predict → export → serve → Predict over gRPC and REST', async (t) => {
  t.timeout(8 * 60_000);
  const { model, commands } = readmeJourney(await readFile(join(ROOT, 'README.md'), 'utf8'));
  t.deepEqual(commands.map((c) => c[0]), ['datagen', 'datagen', 'train', 'eval', 'predict', 'export', 'serve']);
  const project = await consumerProject();
  const ws = await consumerWorkspace(project, 'journey-');
  await writeFile(join(ws, 'my-model.ts'), model);
  await compileInConsumer(project, ws);
  const cwd = join(ws, 'out'); // my-model.js is here
  const cli = join(project.dir, 'node_modules', 'monolith-ts', 'dist', 'src', 'cli', 'main.js');
  t.true((await readdir(join(project.dir, 'node_modules', '.bin'))).includes('monolith-ts'), 'the monolith-ts command is installed');

  const out: Record<string, RunResult> = {};
  for (const args of commands.filter((c) => c[0] !== 'serve')) {
    const r = await runNode(cli, cwd, 180_000, { MONOLITH_LOG: 'warn' }, args);
    t.is(r.code, 0, `monolith-ts ${args.join(' ')}\n${r.stderr}`);
    out[args[0]!] = r;
  }
  t.regex(out.train!.stdout, /read 512 records from day1\.pb/);
  t.regex(out.train!.stdout, /2 worker thread\(s\)/);
  t.regex(out.train!.stdout, /trained 8 steps, 512 examples, global step 8/);
  t.regex(out.eval!.stdout, /on 128 rows/);
  t.regex(out.eval!.stdout, /loss \d+\.\d+/);
  t.regex(out.eval!.stdout, /ctr_head: AUC 0\.\d+/);
  t.notRegex(`${out.train!.stderr}${out.eval!.stderr}`, /drops/, 'every feature of the files is read');
  t.regex(out.export!.stdout, /^standalone: /);
  const scores = (await readFile(join(cwd, 'day2-scores.tsv'), 'utf8')).trim().split('\n');
  t.is(scores[0], 'row\tlabel\tctr_head');
  t.is(scores.length, 129);

  const serveArgs = commands.find((c) => c[0] === 'serve')!.slice(1);
  const server = await startServe(cli, cwd, [...serveArgs, '--poll-interval-ms', '0']);
  t.teardown(() => server.stop());

  // The held-out records as they are in the file (sort_id framing), dense_0..dense_2 by name.
  const records: Uint8Array[] = [];
  for await (const r of readRecordFile(join(cwd, 'day2.pb'), { sortId: true })) if (records.length < 4) records.push(r.payload);
  const expected = scores.slice(1, 5).map((l) => Number(l.split('\t')[2]));

  const outputs = await predictRecords(tfServingDescriptors(), server.grpc, records);
  t.deepEqual(Object.keys(outputs), ['ctr_head']);
  t.deepEqual(outputs.ctr_head!.shape, [4n]);
  outputs.ctr_head!.floatVal.forEach((v, i) => t.true(Math.abs(v - expected[i]!) < 1e-5, `gRPC row ${i}: ${v}, predict --data ${expected[i]}`));

  const res = await fetch(`${server.rest}/v1/models/default:predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ instances: records.map((r) => ({ b64: Buffer.from(r).toString('base64') })) }),
  });
  t.is(res.status, 200);
  const { predictions } = (await res.json()) as { predictions: number[] };
  t.deepEqual(predictions, outputs.ctr_head!.floatVal);
  await server.stop();
  await rm(ws, { recursive: true, force: true });
});
