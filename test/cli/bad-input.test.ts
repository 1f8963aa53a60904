import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, tempDir } from '../helpers.js';

const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const exec = promisify(execFile);

// Two CLI processes at a time: the table has dozens of rows.
let slots = 2;
const waiting: Array<() => void> = [];
async function limited<T>(f: () => Promise<T>): Promise<T> {
  if (slots === 0) await new Promise<void>((r) => waiting.push(r));
  else slots--;
  try {
    return await f();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else slots++;
  }
}

const run = (args: string[], cwd?: string) => limited(() => runNow(args, cwd));
async function runNow(args: string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, MONOLITH_LOG: 'warn' }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const dir = await tempDir();
const data = join(dir, 'data.pb');
const notJson = join(dir, 'model.js');
await writeFile(notJson, 'export function createModel() { throw new Error("must not be loaded"); }\n');
await mkdir(join(dir, 'versions'));

/** Each command with bad input: the exit code is 1 and stderr is one `monolith-ts: error: …` line matching `says`. */
const cases: Array<{ args: string[]; says: RegExp }> = [
  { args: ['datagen', '-o', data, '--num-batch', '-3'], says: /'--num-batch <n>' argument '-3' is invalid\. -3 is not a positive integer/ },
  { args: ['datagen', '-o', data, '--batch-size', '1.5'], says: /'--batch-size <n>' argument '1\.5' is invalid\. "1\.5" is not an integer/ },
  { args: ['datagen', '-o', data, '--drop-rate', '2'], says: /'--drop-rate <p>' argument '2' is invalid\. 2 is not in 0\.\.1/ },
  { args: ['datagen', '-o', '/nonexistent/dir/x.pb'], says: /--output \/nonexistent\/dir\/x\.pb: directory \/nonexistent\/dir does not exist \(pass --mkdir/ },
  { args: ['datagen', '-o', dir], says: /--output .* is a directory; give a file name/ },
  { args: ['datagen', '-o', data, '--dense-features', 'a', '--dense-feature-types', 'float,int64'], says: /--dense-features \(1\) need as many --dense-feature-shapes/ },
  { args: ['datagen', '-o', data, '--variant-type', 'protobuf'], says: /'--variant-type <type>' argument 'protobuf' is invalid\. Allowed choices are instance, example, example_batch/ },
  { args: ['datagen'], says: /required option '-o, --output <path>' not specified/ },
  { args: ['predict', '--saved-model-path', dir, '--batch-size', '-2'], says: /'--batch-size <n>' argument '-2' is invalid/ },
  { args: ['predict', '--saved-model-path', join(dir, 'missing')], says: /'--saved-model-path <dir>' argument '.*missing' is invalid\. no such directory/ },
  { args: ['predict-client', '--batch-size', '0'], says: /'--batch-size <n>' argument '0' is invalid\. 0 is not a positive integer/ },
  { args: ['predict-client', '--timeout-ms', 'soon'], says: /'--timeout-ms <ms>' argument 'soon' is invalid/ },
  { args: ['serve', '--model-base-path', join(dir, 'versions'), '--port', '99999'], says: /'--port <n>' argument '99999' is invalid\. 99999 is not in 0\.\.65535/ },
  { args: ['serve', '--model_base_path=/nonexistent'], says: /'--model-base-path <dir>' argument '\/nonexistent' is invalid\. no such directory/ },
  { args: ['serve', '--model-base-path', data], says: /is invalid\. (no such directory|is not a directory)/ },
  { args: ['warmup', 'gen', '--gen-type', 'random', '--batch-size', '2000', '--max-records', '1024', '--output-path', join(dir, 'w')], says: /--max-records 1024 is below --batch-size 2000: no request would be written/ },
  { args: ['warmup', 'gen', '--output-path', join(dir, 'w')], says: /--gen-type file needs --file-name \(- reads stdin\)/ },
  { args: ['warmup', 'gen', '--file-name', 'nope.pb'], says: /'--file-name <path>' argument 'nope\.pb' is invalid\. no such file/ },
  { args: ['warmup', 'gen', '--gen-type', 'random', '--output-path', '/tmp'], says: /--output-path \/tmp is a directory/ },
  { args: ['warmup', 'decode', 'nope.pb'], says: /value 'nope\.pb' is invalid for argument 'file'\. no such file/ },
  { args: ['warmup', 'decode'], says: /give the warmup file as an argument or with --file-name/ },
  { args: ['warmup', 'from-example-batch', '--input-folder', join(dir, 'none'), '--output-path', join(dir, 'w')], says: /'--input-folder <dir>' argument .* is invalid\. no such directory/ },
  { args: ['warmup', 'frobnicate'], says: /unknown command 'frobnicate'/ },
  { args: ['export', '--model-module', notJson, '--model-options', '{bad', '--model-dir', dir, '--export-base', join(dir, 'e')], says: /--model-options is not JSON/ },
  { args: ['export', '--model-module', notJson, '--model-dir', dir, '--export-base', join(dir, 'e'), '--num-ps', '0'], says: /'--num-ps <n>' argument '0' is invalid/ },
  { args: ['export', '--model-module', join(dir, 'nope.js'), '--model-dir', dir, '--export-base', join(dir, 'e')], says: /model module .*nope\.js cannot be imported: Cannot find module/ },
  { args: ['export', '--model-module', notJson, '--model-dir', dir, '--export-base', '/nonexistent/a/b'], says: /--export-base \/nonexistent\/a\/b: directory \/nonexistent\/a does not exist \(pass --mkdir/ },
  { args: ['export', '--model-module', notJson, '--model-dir', dir, '--export-base', notJson], says: /--export-base .*model\.js is a file, not a directory/ },
  { args: ['demo-formats', '--out', '/nonexistent/a/b'], says: /--out \/nonexistent\/a\/b: directory \/nonexistent\/a does not exist/ },
  { args: ['demo', '--out', notJson], says: /--out .*model\.js is a file, not a directory/ },
  { args: ['visualize', join(dir, 'nowhere')], says: /value '.*nowhere' is invalid for argument 'export_dir'\. no such directory/ },
  { args: ['visualize', dir, '--output', '/nonexistent/dir/m.html'], says: /--output \/nonexistent\/dir\/m\.html: directory \/nonexistent\/dir does not exist/ },
  { args: ['demo', '--workers', '-1'], says: /'--workers <n>' argument '-1' is invalid\. -1 is negative/ },
  { args: ['demo', '--batch-size', '0'], says: /'--batch-size <n>' argument '0' is invalid/ },
  { args: ['demo', '--kafka-brokers', 'localhost:9092'], says: /--kafka-brokers needs --topic/ },
  { args: ['demo-formats', '--seed', 'x'], says: /'--seed <n>' argument 'x' is invalid/ },
  { args: ['frobnicate'], says: /unknown command 'frobnicate'/ },
  { args: ['--frobnicate'], says: /unknown option '--frobnicate'/ },
];

for (const c of cases) {
  test(`bad input: monolith-ts ${c.args.join(' ').replaceAll(dir, '$TMP')}`, async (t) => {
    const r = await run(c.args);
    t.is(r.code, 1, r.stderr);
    const lines = r.stderr.split('\n').filter(Boolean);
    t.is(lines.length, 1, r.stderr);
    t.regex(lines[0]!, /^monolith-ts: error: /);
    t.regex(lines[0]!, c.says);
  });
}

test('--version prints the package version', async (t) => {
  const r = await run(['--version']);
  t.is(r.code, 0);
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  t.is(r.stdout.trim(), pkg.version);
});

test('Monolith / TF Serving underscore spellings are the same flags', async (t) => {
  const out = join(dir, 'alias.pb');
  const r = await run(['datagen', '--output=' + out, '--num_batch', '2', '--batch_size=3', '--fidv1_features', '1,2']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /wrote 6 instance records/);
});

test('--mkdir creates the missing parent of an output file', async (t) => {
  const out = join(dir, 'new', 'sub', 'x.pb');
  const r = await run(['datagen', '-o', out, '--num-batch', '1', '--batch-size', '2', '--mkdir']);
  t.is(r.code, 0, r.stderr);
  t.true(existsSync(out));
});

test('warmup decode into a pipe that closes early: exit 0, no stack trace', async (t) => {
  const warm = join(dir, 'warm');
  t.is((await run(['warmup', 'gen', '--gen-type', 'random', '--batch-size', '2', '--max-records', '400', '--output-path', warm])).code, 0);
  const child = spawn(process.execPath, [CLI, 'warmup', 'decode', warm], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += String(d)));
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.is(stderr, '');
  t.is(code, 0);
});

test('warmup gen reads stdin only when the file name is -', async (t) => {
  const warm = join(dir, 'from-stdin');
  t.is((await run(['datagen', '-o', data, '--num-batch', '2', '--batch-size', '4'])).code, 0);
  const child = spawn(process.execPath, [CLI, 'warmup', 'gen', '--file-name', '-', '--batch-size', '4', '--max-records', '8', '--output-path', warm], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += String(d)));
  child.stdin.end(await readFile(data));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.is(code, 0);
  t.regex(stdout, /wrote 2 warmup requests/);
});
