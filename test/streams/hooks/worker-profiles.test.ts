import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { profilerHook, train } from 'monolith-ts';
import { Rng } from '../../../src/util/random.js';
import { tempDir } from '../../helpers.js';
import { tinyBatch } from '../../workers/fixtures/tiny-batches.js';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string } }[];
  samples: number[];
  startTime: number;
  endTime: number;
}

test('the profiler hook writes one CPU profile per step worker, holding the train step', async (t) => {
  const logdir = await tempDir();
  const rng = new Rng(5);
  const batches = Array.from({ length: 12 }, () => tinyBatch(rng, 8));
  const written: string[] = [];
  const model = { url: new URL('../../workers/fixtures/tiny-model.js', import.meta.url).href, options: { busyMs: 15 } };
  await train({
    model,
    source: batches,
    workers: 2,
    hooks: [{ name: 'profiler', op: profilerHook({ logdir, initStepRange: [0, 100], saveSteps: 1000, host: 'h', onProfile: (p) => written.push(p) }) }],
  });
  const [run] = await readdir(join(logdir, 'plugins', 'profile'));
  const files = (await readdir(join(logdir, 'plugins', 'profile', run!))).sort();
  const workerFiles = files.filter((f) => /^h\.worker-\d+\.cpuprofile$/.test(f));
  t.true(files.includes('h.cpuprofile'), files.join(', '));
  t.is(workerFiles.length, 2, files.join(', '));
  t.is(written.length, files.length);
  for (const f of workerFiles) {
    const profile = JSON.parse(await readFile(join(logdir, 'plugins', 'profile', run!, f), 'utf8')) as CpuProfile;
    // Chrome DevTools' .cpuprofile shape: nodes with call frames, samples, start / end times.
    t.true(profile.endTime > profile.startTime && profile.samples.length > 0);
    const frames = profile.nodes.map((n) => n.callFrame);
    t.true(frames.some((c) => c.functionName === 'run' && c.url.endsWith('/workers/train-step.js')), `${f} has TrainStep.run`);
    t.true(frames.some((c) => c.functionName === 'runStepTask'), `${f} has the step task`);
  }
  // The main thread's profile does not run the steps.
  const main = JSON.parse(await readFile(join(logdir, 'plugins', 'profile', run!, 'h.cpuprofile'), 'utf8')) as CpuProfile;
  t.false(main.nodes.some((n) => n.callFrame.url.endsWith('/workers/train-step.js')));
});
