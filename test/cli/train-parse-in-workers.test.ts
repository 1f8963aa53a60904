/**
 * `monolith-ts train --data … --workers N`: the worker threads parse their own
 * batches from the files (the main thread only reads the records). Training
 * equals parsing on the main thread, and a damaged record still fails with the
 * file and the byte offset of its payload.
 */
import test from 'ava';
import { join } from 'node:path';
import { RecordFileWriter } from '../../src/io/record-file.js';
import { writeTFRecords } from '../../src/io/tfrecord.js';
import { tempDir } from '../helpers.js';
import { cli } from './cli-run.js';
import { plantedInstances } from './planted-records.js';

const MODEL = ['--model-module', 'monolith-ts/models/deepfm', '--model-options', '{"hidden":[8],"embeddingDim":4}'];
const FEATURES = ['--slots', '1..26', '--dense-group', 'dense=dense_0..dense_12'];

async function writePlain(path: string, payloads: Uint8Array[]): Promise<void> {
  const w = await RecordFileWriter.open(path, new Uint8Array(0));
  for (const p of payloads) await w.write(p);
  await w.close();
}

for (const layout of ['plain', 'tfrecord'] as const) {
  test(`train --workers 1 on ${layout} files: the worker parses its batches, and training equals parsing on the main thread`, async (t) => {
    const dir = await tempDir();
    const data = join(dir, `day.${layout}`);
    const { payloads } = plantedInstances(400);
    if (layout === 'plain') await writePlain(data, payloads);
    else await writeTFRecords(data, payloads);
    const run = (workers: string, modelDir: string) => cli('train', ...MODEL, '--model-dir', join(dir, modelDir), '--data', data, ...FEATURES, '--layout', layout, '--workers', workers, '--deterministic', '--batch-size', '50');
    const inWorker = await run('1', 'w');
    t.is(inWorker.code, 0, inWorker.stderr);
    t.regex(inWorker.stdout, /1 worker thread\(s\) parsing their own batches/);
    t.regex(inWorker.stdout, /read 400 records from .*trained 8 steps, 400 examples/s);
    const here = await run('0', 'h');
    t.is(here.code, 0, here.stderr);
    t.notRegex(here.stdout, /parsing their own batches/);
    const evalOf = async (modelDir: string) => {
      const r = await cli('eval', '--model-dir', join(dir, modelDir), '--data', data, '--json');
      t.is(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as { loss: number; heads: unknown };
    };
    const [a, b] = [await evalOf('w'), await evalOf('h')];
    t.true(Math.abs(a.loss - b.loss) < 1e-6, `held-out loss: worker-parsed ${a.loss}, main-thread ${b.loss}`);
    t.deepEqual(a.heads, b.heads);
  });
}

test('train --workers 1: a damaged record parsed in the worker fails training with the file and its payload\'s byte offset', async (t) => {
  const dir = await tempDir();
  const data = join(dir, 'damaged.rec');
  // Past the first 1000 records, which train checks before it starts.
  const { payloads } = plantedInstances(1200);
  payloads[1100] = Uint8Array.of(0x0a, 0x7f, 1); // field 1 says 127 bytes, 1 follows
  await writePlain(data, payloads);
  // Plain layout: every record is a u64 size and its payload.
  const payloadAt = payloads.slice(0, 1100).reduce((n, p) => n + 8 + p.length, 0) + 8;
  const r = await cli('train', ...MODEL, '--model-dir', join(dir, 'm'), '--data', data, ...FEATURES, '--layout', 'plain', '--workers', '1', '--batch-size', '100');
  t.is(r.code, 1);
  t.regex(r.stderr, new RegExp(`damaged\\.rec`));
  const offset = Number(/offset (\d+)/.exec(r.stderr)?.[1] ?? /byte (\d+)/.exec(r.stderr)?.[1]);
  t.true(offset >= payloadAt && offset <= payloadAt + 3, `${r.stderr} (payload at ${payloadAt})`);
  t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
  t.log(r.stderr.trim());
});
