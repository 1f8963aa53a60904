import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { from, lastValueFrom, range, map, toArray, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { ConfigError } from '../../../src/errors.js';
import type { StepResult } from '../../../src/graph/step-result.js';
import { profilerHook, type ProfilerHookOptions } from '../../../src/streams/hooks/profiler-hook.js';
import { tempDir } from '../../helpers.js';
import { step } from './helpers.js';

async function profileRuns(logdir: string): Promise<string[]> {
  try {
    return (await readdir(join(logdir, 'plugins', 'profile'))).sort();
  } catch {
    return [];
  }
}

/** Runs `n` steps through the hook, one every `gapMs` of virtual time; resolves when the profiles are written. */
async function runSteps(n: number, gapMs: number, opts: Omit<ProfilerHookOptions, 'scheduler'>): Promise<StepResult[]> {
  const scheduler = new TestScheduler(() => undefined);
  let done!: Promise<StepResult[]>;
  scheduler.run(({ cold }) => {
    const marble = Array.from({ length: n }, (_, i) => `${i === 0 ? gapMs : gapMs - 1}ms v`).join(' ') + ' |';
    let i = 0;
    const source: Observable<StepResult> = cold(marble, { v: 0 }).pipe(map(() => step(++i)));
    done = lastValueFrom(source.pipe(profilerHook({ ...opts, scheduler }), toArray()));
  });
  return done;
}

test('options are checked as in Tf2ProfilerHook', (t) => {
  t.throws(() => profilerHook({ logdir: '/x', initStepRange: [10, 10], saveSteps: 50 }), { instanceOf: ConfigError, message: /End step invalid, start_step: 10, end_step: 10/ });
  t.throws(() => profilerHook({ logdir: '/x', initStepRange: [5, null], saveSteps: 50 }), { instanceOf: ConfigError, message: /End step invalid/ });
  t.throws(() => profilerHook({ logdir: '/x', initStepRange: [0, 10], saveSteps: 10 }), { instanceOf: ConfigError, message: /Save steps must be greater than delta steps/ });
  t.throws(() => profilerHook({ logdir: '/x', initStepRange: [null, null], saveSteps: 10 }), { instanceOf: ConfigError, message: /default: 10/ });
  t.throws(() => profilerHook({ logdir: '/x', initStepRange: [0, 10] }), { instanceOf: ConfigError, message: /Either every_steps or every_secs/ });
  t.throws(() => profilerHook({ logdir: '/x', initStepRange: [0, 10], saveSteps: 50, saveSecs: 1 }), { instanceOf: ConfigError, message: /Can not provide both/ });
});

test('test_steps: one step with init range [0, 10) writes exactly one V8 CPU profile', async (t) => {
  const logdir = await tempDir();
  const written: string[] = [];
  const out = await lastValueFrom(from([step(1)]).pipe(profilerHook({ logdir, initStepRange: [0, 10], saveSteps: 50, host: 'h', onProfile: (p) => written.push(p) }), toArray()));
  t.is(out.length, 1);
  const runs = await profileRuns(logdir);
  t.is(runs.length, 1);
  t.deepEqual(written, [join(logdir, 'plugins', 'profile', runs[0]!, 'h.cpuprofile')]);
  const profile = JSON.parse(await readFile(written[0]!, 'utf8'));
  t.true(Array.isArray(profile.nodes) && profile.nodes.length > 0);
  t.true(profile.endTime >= profile.startTime);
});

test('test_multiple_steps_1 / _2: save_steps 30 → 30 steps give 1 profile (steps 1-10), 31 steps give 2 (and step 31)', async (t) => {
  const one = await tempDir();
  await lastValueFrom(range(1, 30).pipe(map((i) => step(i)), profilerHook({ logdir: one, initStepRange: [0, 10], saveSteps: 30 })));
  t.is((await profileRuns(one)).length, 1);
  const two = await tempDir();
  await lastValueFrom(range(1, 31).pipe(map((i) => step(i)), profilerHook({ logdir: two, initStepRange: [0, 10], saveSteps: 30 })));
  const runs = await profileRuns(two);
  t.is(runs.length, 2);
  t.deepEqual(runs.map((r) => r.replace(/^.*_step/, '')).sort(), ['1', '31']);
});

test('test_secs_1 / _2 in virtual time: save_secs 1 over 10 steps of 150 ms → 1 profile; save_secs 3 over 21 steps → 2', async (t) => {
  const one = await tempDir();
  await runSteps(10, 150, { logdir: one, initStepRange: [0, 10], saveSecs: 1 });
  t.is((await profileRuns(one)).length, 1);
  const two = await tempDir();
  await runSteps(21, 150, { logdir: two, initStepRange: [0, 10], saveSecs: 3 });
  t.is((await profileRuns(two)).length, 2);
});

test('init range [null, null] defers the first window to step 501', async (t) => {
  const early = await tempDir();
  await lastValueFrom(range(1, 500).pipe(map((i) => step(i)), profilerHook({ logdir: early, initStepRange: [null, null], saveSteps: 1000 })));
  t.is((await profileRuns(early)).length, 0);
  const late = await tempDir();
  await lastValueFrom(range(1, 502).pipe(map((i) => step(i)), profilerHook({ logdir: late, initStepRange: [null, null], saveSteps: 1000 })));
  const runs = await profileRuns(late);
  t.is(runs.length, 1);
  t.regex(runs[0]!, /_step501$/);
});
