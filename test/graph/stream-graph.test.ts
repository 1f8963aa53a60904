import test from 'ava';
import { bufferCount, firstValueFrom, lastValueFrom, map, take, toArray } from 'rxjs';
import type { StepResult } from '../../src/graph/step-result.js';
import { PipelineError } from '../../src/graph/pipeline-error.js';
import { StreamGraph } from '../../src/graph/stream-graph.js';
import { StepGate } from '../../src/graph/step-gate.js';

const result = (step: number, examples = 1): StepResult => ({ mode: 'train', step, examples });
const tick = () => new Promise<void>((r) => setImmediate(r));

/** An endless source that counts how often it was pulled and whether it was closed. */
function countingSource() {
  const state = { pulled: 0, closed: false };
  function* gen() {
    try {
      for (;;) yield state.pulled++;
    } finally {
      state.closed = true;
    }
  }
  return { state, gen };
}

test('describe() and toDot() list the nodes in stream order with kinds', (t) => {
  const g = new StreamGraph('demo')
    .from('file', [1, 2, 3])
    .through('parse', map((x: number) => x * 2), 'parse')
    .step('train', async (x: number) => result(x))
    .then('loss', map((r) => r), 'hook')
    .then('metrics-file', map((r) => r), 'sink');
  t.deepEqual(g.nodes.map((n) => `${n.name}:${n.kind}`), ['file:source', 'parse:parse', 'train:step', 'loss:hook', 'metrics-file:sink']);
  t.regex(g.describe(), /graph demo\n {4}file \[source\]\n {2}→ parse \[parse\]\n {2}→ train \[step\] at most 2 in flight/);
  const dot = g.toDot();
  t.regex(dot, /^digraph "demo" \{/);
  t.true(dot.includes('"file" -> "parse";') && dot.includes('"train" -> "loss";') && dot.includes('"loss" -> "metrics-file";'));
});

test('duplicate node names and a missing step are configuration errors', (t) => {
  t.throws(() => new StreamGraph().from('a', [1]).through('a', map((x) => x)), { message: /two nodes are named 'a'/ });
  t.throws(() => new StreamGraph().from('a', [1]).compile(), { message: /no step node/ });
});

test('a source far faster than training is pulled only as far as the in-flight bound', async (t) => {
  const { state, gen } = countingSource();
  let completed = 0;
  let maxOutstanding = 0;
  const g = new StreamGraph().from('endless', gen).step(
    'slow-train',
    async (x: number) => {
      maxOutstanding = Math.max(maxOutstanding, state.pulled - completed);
      for (let i = 0; i < 10; i++) await tick(); // training ten times slower than the source
      completed++;
      return result(x);
    },
    { maxInFlight: 3 },
  );
  const got = await lastValueFrom(g.compile().pipe(take(40), toArray()));
  t.is(got.length, 40);
  t.true(maxOutstanding <= 3, `at most 3 pulled but unfinished, saw ${maxOutstanding}`);
  t.true(state.pulled <= 43, `pulled ${state.pulled}`);
  t.true(state.closed, 'unsubscribing (take) closed the generator');
});

test('with a batching node the bound counts batches: records held stay within maxInFlight batches', async (t) => {
  const { state, gen } = countingSource();
  let completedRecords = 0;
  let maxHeld = 0;
  const g = new StreamGraph()
    .from('records', gen)
    .through('batch', bufferCount(8), 'batch')
    .step(
      'train',
      async (b: number[]) => {
        maxHeld = Math.max(maxHeld, state.pulled - completedRecords);
        for (let i = 0; i < 20; i++) await tick();
        completedRecords += b.length;
        return result(b[0]!, b.length);
      },
      { maxInFlight: 2 },
    );
  await lastValueFrom(g.compile().pipe(take(25)));
  t.true(maxHeld <= 2 * 8 + 7, `records held ${maxHeld}`);
});

test('a finite source completes after every item went through the step, in order with one in flight', async (t) => {
  const g = new StreamGraph().from('src', [1, 2, 3, 4, 5]).step('s', async (x: number) => result(x), { maxInFlight: 1 });
  t.deepEqual((await lastValueFrom(g.compile().pipe(toArray()))).map((r) => r.step), [1, 2, 3, 4, 5]);
});

test('an async source is pulled lazily and cancelled by unsubscribing', async (t) => {
  let pulled = 0;
  let finished = false;
  async function* src() {
    try {
      for (;;) {
        pulled++;
        yield pulled;
      }
    } finally {
      finished = true;
    }
  }
  const first = await firstValueFrom(new StreamGraph().from('src', src).step('s', async (x: number) => result(x), { maxInFlight: 2 }).compile());
  t.is(first.step, 1);
  for (let i = 0; i < 5; i++) await tick();
  t.true(finished);
  t.true(pulled <= 3, `pulled ${pulled}`);
});

for (const [where, build] of [
  ['source', () => new StreamGraph().from('bad-source', (function* () { yield 1; throw new Error('disk gone'); })()).step('s', async (x: number) => result(x))],
  ['parse', () => new StreamGraph().from('src', [1, 2]).through('parse', map((x: number) => { if (x === 2) throw new Error('bad record'); return x; }), 'parse').step('s', async (x: number) => result(x))],
  ['train', () => new StreamGraph().from('src', [1, 2]).step('train', async (x: number) => { if (x === 2) throw new Error('nan loss'); return result(x); })],
  ['loss-hook', () => new StreamGraph().from('src', [1, 2]).step('s', async (x: number) => result(x)).then('loss-hook', map((r) => { if (r.step === 2) throw new Error('hook broke'); return r; }))],
] as const) {
  test(`an error in node '${where}' leaves the pipeline as a PipelineError naming it`, async (t) => {
    const g = build() as StreamGraph<StepResult>;
    const err = await t.throwsAsync(lastValueFrom(g.compile()));
    t.true(err instanceof PipelineError);
    const node = where === 'source' ? 'bad-source' : where;
    t.is((err as PipelineError).node, node);
    t.regex(err!.message, new RegExp(`^pipeline node '${node}': Error: `));
  });
}

test('step gate: exclusive waits for shared holders and holds new ones back', async (t) => {
  const gate = new StepGate();
  const events: string[] = [];
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const s1 = gate.shared(async () => {
    events.push('s1 in');
    await held;
    events.push('s1 out');
  });
  const x = gate.exclusive(async () => events.push('checkpoint'));
  const s2 = gate.shared(async () => events.push('s2'));
  await tick();
  t.deepEqual(events, ['s1 in']);
  release();
  await Promise.all([s1, x, s2]);
  t.deepEqual(events, ['s1 in', 's1 out', 'checkpoint', 's2']);
});
