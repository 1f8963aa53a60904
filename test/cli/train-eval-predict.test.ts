import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers.js';
import { cli } from './cli-run.js';
import { writePlantedRecords, type TestLayout } from './planted-records.js';

const MODEL = ['--model-module', 'monolith-ts/models/deepfm', '--model-options', '{"hidden":[16],"embeddingDim":4,"seed":3}'];
const FEATURES = ['--slots', '1..26', '--dense-group', 'dense=dense_0..dense_12'];

for (const layout of ['plain', 'sort_id'] as TestLayout[]) {
  test.serial(`train (2 workers) → eval → export → predict --data on ${layout} files, nothing repeated after train`, async (t) => {
    const dir = await tempDir();
    const trainFile = join(dir, 'train.pb');
    const heldOut = join(dir, 'heldout.pb');
    await writePlantedRecords(trainFile, 612, layout, 1);
    const labels = await writePlantedRecords(heldOut, 145, layout, 2);
    const modelDir = join(dir, 'model');

    let r = await cli('train', ...MODEL, '--model-dir', modelDir, '--data', trainFile, '--layout', layout, ...FEATURES, '--workers', '2', '--batch-size', '100', '--checkpoint-every', '5', '--export-base', join(dir, 'live-export'));
    t.is(r.code, 0, r.stderr);
    t.regex(r.stdout, new RegExp(`read 612 records from ${trainFile}`));
    t.regex(r.stdout, /trained 7 steps, 612 examples, global step 7/);
    t.notRegex(r.stderr, /warning/);
    t.true((await readdir(join(dir, 'live-export'))).includes('7'), 'exported on the last save');
    const settings = JSON.parse(await readFile(join(modelDir, 'monolith-ts-model.json'), 'utf8'));
    t.is(settings.input.format, layout);
    t.deepEqual(settings.model.options, { hidden: [16], embeddingDim: 4, seed: 3 });

    // eval: the layout and features come from the stored settings.
    r = await cli('eval', '--model-dir', modelDir, '--data', heldOut, '--json', '--workers', '2');
    t.is(r.code, 0, r.stderr);
    const ev = JSON.parse(r.stdout);
    t.is(ev.rows, 145);
    t.deepEqual(ev.files, { [heldOut]: 145 });
    t.is(ev.globalStep, 7);
    const h = ev.heads.ctr_head;
    t.true(h.auc > 0 && h.auc < 1);
    t.is(Math.round(h.meanLabel * 145), labels.reduce((a, b) => a + b, 0));
    t.true(Math.abs(h.calibration - h.meanPrediction / h.meanLabel) < 1e-9);

    // export with nothing repeated: model module and options from the settings file.
    r = await cli('export', '--model-dir', modelDir, '--export-base', join(dir, 'export'));
    t.is(r.code, 0, r.stderr);
    const exportDir = r.stdout.trim().split(': ')[1]!;

    // predict through the checkpoint (TSV) and through the export (JSONL): same rows, same scores, labels from the file.
    r = await cli('predict', '--data', heldOut, '--model-dir', modelDir, '--workers', '2', '--output', join(dir, 'p.tsv'));
    t.is(r.code, 0, r.stderr);
    t.regex(r.stderr, new RegExp(`read 145 rows from ${heldOut}`));
    const tsv = (await readFile(join(dir, 'p.tsv'), 'utf8')).trim().split('\n');
    t.is(tsv[0], 'row\tlabel\tctr_head');
    t.is(tsv.length, 146);
    t.deepEqual(tsv.slice(1).map((l) => Number(l.split('\t')[1])), labels);
    r = await cli('predict', '--data', heldOut, '--saved-model-path', exportDir, '--model-dir', modelDir, '--output', join(dir, 'p.jsonl'));
    t.is(r.code, 0, r.stderr);
    const jsonl = (await readFile(join(dir, 'p.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    t.is(jsonl.length, 145);
    jsonl.forEach((row, i) => {
      t.is(row.row, i);
      t.true(Math.abs(row.ctr_head - Number(tsv[i + 1]!.split('\t')[2])) < 1e-5);
    });
  });
}

test.serial('a wrong layout is an error naming the file and offset, before anything trains', async (t) => {
  const dir = await tempDir();
  const plain = join(dir, 'plain.pb');
  const sorted = join(dir, 'sorted.pb');
  await writePlantedRecords(plain, 20, 'plain');
  await writePlantedRecords(sorted, 20, 'sort_id');
  let r = await cli('train', ...MODEL, '--model-dir', join(dir, 'm1'), '--data', plain, '--layout', 'sort_id', ...FEATURES);
  t.is(r.code, 1);
  t.regex(r.stderr, new RegExp(`FormatError: ${plain}, byte 8, field sort_id: .*looks plain \\(try --layout plain\\)`));
  r = await cli('train', ...MODEL, '--model-dir', join(dir, 'm2'), '--data', sorted, '--layout', 'plain', ...FEATURES);
  t.is(r.code, 1);
  t.regex(r.stderr, new RegExp(`FormatError: ${sorted}, byte 0, field size: .*sort-id headers \\(try --layout sort_id\\)`));
  r = await cli('train', ...MODEL, '--model-dir', join(dir, 'm3'), '--data', sorted, ...FEATURES);
  t.is(r.code, 1);
  t.regex(r.stderr, /--layout is required/);
  await t.throwsAsync(readdir(join(dir, 'm1')));
});

test.serial('a parse configuration that drops or misses features is reported', async (t) => {
  const dir = await tempDir();
  const file = join(dir, 'd.pb');
  await writePlantedRecords(file, 50, 'plain');
  // The 13 dense features read as one 13-wide `dense` that the records do not have: an error that says what they have.
  let r = await cli('train', ...MODEL, '--model-dir', join(dir, 'm1'), '--data', file, '--layout', 'plain', '--slots', '1..26', '--dense', 'dense:13');
  t.is(r.code, 1);
  t.regex(r.stderr, /dense feature\(s\) dense are in none of the first 50 records.*dense_0\.\.dense_12 \(to read them as one input: --dense-group dense=dense_0\.\.dense_12\)/);
  // dense_12 left out and a slot 27 the data lacks: warnings with counts, training goes on.
  r = await cli('train', '--model-module', 'monolith-ts/models/deepfm', '--model-options', '{"hidden":[8],"sparseSlots":27,"denseFeatures":12}', '--model-dir', join(dir, 'm2'), '--data', file, '--layout', 'plain', '--slots', '1..27', '--dense-group', 'dense=dense_0..dense_11', '--workers', '0', '--batch-size', '25');
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, new RegExp(`warning: sparse feature slot_27 \\(slot 27\\) is in 0 of 50 records of ${file}`));
  t.regex(r.stderr, new RegExp(`warning: ${file} has dense features the parse configuration drops: dense_12 \\(50\\)`));
  t.regex(r.stdout, /trained 2 steps, 50 examples/);
  // The model needs what the configuration does not read: an error naming it.
  r = await cli('train', ...MODEL, '--model-dir', join(dir, 'm3'), '--data', file, '--layout', 'plain', '--slots', '1..25', '--dense-group', 'dense=dense_0..dense_12');
  t.is(r.code, 1);
  t.regex(r.stderr, /model deepfm needs sparse feature fc_slot_26 \(slot 26\)/);
});

test.serial('export names the model options when the checkpoint does not fit; numeric flags are validated by name', async (t) => {
  const dir = await tempDir();
  const file = join(dir, 'd.pb');
  await writePlantedRecords(file, 40, 'sort_id');
  const modelDir = join(dir, 'm');
  let r = await cli('train', ...MODEL, '--model-dir', modelDir, '--data', file, '--layout', 'sort_id', ...FEATURES, '--workers', '0', '--batch-size', '40');
  t.is(r.code, 0, r.stderr);
  r = await cli('export', '--model-dir', modelDir, '--export-base', join(dir, 'e'), '--model-options', '{}');
  t.is(r.code, 1);
  t.regex(r.stderr, /the model options are the likely cause \(the model dir stores .*"hidden":\[16\].*holds \d+ floats, the model's dense state has \d+/);
  r = await cli('train', '--model-dir', modelDir, '--data', file, '--batch-size', '0');
  t.is(r.code, 1);
  t.regex(r.stderr, /option '--batch-size <n>' argument '0' is invalid/);
  r = await cli('eval', '--model-dir', modelDir, '--data', file, '--workers', 'two');
  t.regex(r.stderr, /option '--workers <n>' argument 'two' is invalid/);
  r = await cli('predict', '--data', file, '--model-dir', modelDir, '--output', join(dir, 'p.csv'));
  t.regex(r.stderr, /cannot tell the format from "\.csv"/);
});
