import test from 'ava';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCtrDemo } from '../../src/demo/ctr-demo.js';

test('the demo trains with two workers, checkpoints, exports on save, scores held-out rows through the export and serves it over gRPC', async (t) => {
  const out = await mkdtemp(join(tmpdir(), 'demo-test-'));
  const lines: string[] = [];
  const s = await runCtrDemo({ workers: 2, maxSteps: 24, durationSec: 600, batchSize: 128, vocabSize: 200, checkpointEverySteps: 10, holdoutRows: 2000, deterministic: true, out, say: (l) => lines.push(l), progressWrite: () => undefined });
  t.is(s.train.steps, 24);
  t.is(s.train.examples, 24 * 128);
  t.is(Object.keys(s.tableSizes).length, 26);
  t.true(Object.values(s.tableSizes).every((n) => n > 0 && n <= 200), 'every slot table holds at most the vocabulary');
  // A checkpoint once 10 more steps were applied (steps in flight may carry it past 10) and one at the end (24), each
  // exported under its global step; the newest export is the one scored and served.
  const versions = (await readdir(join(out, 'export'))).filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
  t.true(versions.length >= 2 && versions[0]! >= 10 && versions[0]! < 24, `exports ${versions}`);
  t.is(versions.at(-1), 24);
  t.is(s.exportPath, join(out, 'export', '24'));
  t.is(s.served.length, 5);
  t.true(s.served.every((r) => r.predicted > 0 && r.predicted < 1));
  t.true(s.heldOutAuc! > 0.5, `better than chance after 24 steps: AUC ${s.heldOutAuc}`);
  t.true(s.plantedAuc! > s.heldOutAuc!);
  t.true(lines.some((l) => l.startsWith('  held-out AUC')));
});
