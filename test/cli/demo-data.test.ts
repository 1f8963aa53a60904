import test from 'ava';
import { join } from 'node:path';
import { tempDir } from '../helpers.js';
import { cli } from './cli-run.js';
import { writePlantedRecords } from './planted-records.js';

test('demo --data reads every record of a plain file with dense_0..dense_12, scores held-out rows of the data, and export needs nothing repeated', async (t) => {
  const dir = await tempDir();
  const file = join(dir, 'plain.pb');
  const labels = await writePlantedRecords(file, 1000, 'plain');
  const out = join(dir, 'demo');
  let r = await cli('demo', '--data', file, '--layout', 'plain', '--dense-group', 'dense=dense_0..dense_12', '--workers', '2', '--batch-size', '100', '--checkpoint-every', '4', '--holdout', '0.2', '--out', out);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, new RegExp(`read 1000 records from ${file}`));
  // Every 5th batch of 100 held out: 800 rows trained, 200 scored.
  t.regex(r.stdout, /trained +8 steps, 800 examples/);
  t.regex(r.stdout, /held-out AUC 0\.\d+ \(exported model\) on 200 held-out rows of the data/);
  t.notRegex(r.stdout, /planted/);
  // The served rows are the first held-out rows: batch 5 of the file, rows 400..404.
  const served = [...r.stdout.matchAll(/p=0\.\d+ +label (\d)/g)].map((m) => Number(m[1]));
  t.deepEqual(served, labels.slice(400, 405));
  r = await cli('export', '--model-dir', join(out, 'checkpoints'), '--export-base', join(dir, 'export'));
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^standalone: /);
});

test('demo --data without --layout, or with the demo default dense feature on dense_0..dense_12 records, says what to pass', async (t) => {
  const dir = await tempDir();
  const file = join(dir, 'plain.pb');
  await writePlantedRecords(file, 20, 'plain');
  let r = await cli('demo', '--data', file, '--out', join(dir, 'a'));
  t.is(r.code, 1);
  t.regex(r.stderr, /--data needs --layout/);
  r = await cli('demo', '--data', file, '--layout', 'plain', '--out', join(dir, 'b'));
  t.is(r.code, 1);
  t.regex(r.stderr, /--dense-group dense=dense_0\.\.dense_12/);
});
