import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CheckpointSaver } from '../../../src/graph/checkpoint-saver.js';
import { Rng } from '../../../src/util/random.js';
import { createModelTables } from '../../../src/workers/model-tables.js';
import { initBackend } from '../../../src/workers/tf-backend.js';
import { createSharedDenseParams } from '../../../src/workers/train-step.js';
import { tempDir } from '../../helpers.js';
import { createModel } from './fixtures/counting-model.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}.js`, import.meta.url));
const MESSAGES = 3000;
const KILLS = 4;

/** Lines of a child's stdout, one callback each. */
function onLines(child: ChildProcess, fn: (line: string) => void): void {
  createInterface({ input: child.stdout! }).on('line', fn);
}

test('Kafka → model exactly once: a trainer SIGKILLed at seeded random steps and restarted leaves every message counted once in the final checkpoint', async (t) => {
  t.timeout(120_000);
  await initBackend('cpu');
  // The broker lives in its own process, so it outlives every trainer.
  const broker = spawn(process.execPath, [fixture('mock-broker'), 'clicks', String(MESSAGES)], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.teardown(() => broker.stdin!.end());
  const bootstrap = await new Promise<string>((resolve, reject) => {
    onLines(broker, (l) => l.startsWith('bootstrap ') && resolve(l.slice(10)));
    broker.once('exit', (code) => reject(new Error(`mock broker exited with ${code}`)));
  });
  const dir = await tempDir();
  const rng = new Rng(18);

  const run = (killAtStep: number | undefined) =>
    new Promise<{ killed: boolean; steps: number }>((resolve, reject) => {
      const child = spawn(process.execPath, [fixture('kafka-trainer'), bootstrap, 'clicks', dir, String(MESSAGES)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let steps = 0;
      onLines(child, (l) => {
        if (!l.startsWith('step ')) return;
        steps++;
        if (killAtStep !== undefined && steps === killAtStep) child.kill('SIGKILL');
      });
      child.once('error', reject);
      child.once('exit', (code, signal) => {
        if (signal === 'SIGKILL') resolve({ killed: true, steps });
        else if (code === 0) resolve({ killed: false, steps });
        else reject(new Error(`trainer exited with ${code ?? signal}`));
      });
    });

  const log: string[] = [];
  for (let k = 0; k < KILLS; k++) {
    const at = rng.int(2, 14);
    const r = await run(at);
    log.push(`run ${k}: killed=${r.killed} after ${r.steps} steps`);
  }
  const last = await run(undefined);
  log.push(`last run: ${last.steps} steps`);
  t.log(log.join('\n'));

  // Count each message's effect in the final checkpoint.
  const spec = createModel();
  const tables = createModelTables(spec);
  const dense = createSharedDenseParams(spec);
  await new CheckpointSaver({ dir, tables, dense }).restore();
  const counts = new Map<number, number>();
  const table = tables.count!;
  for (let s = 0; s < table.shards.length; s++) {
    table.forEachEntry(s, (lo, _hi, row, sh) => counts.set(lo, sh.f32[row * sh.stride]!));
  }
  let once = 0;
  const lost: number[] = [];
  const duplicated: number[] = [];
  for (let i = 1; i <= MESSAGES; i++) {
    const c = counts.get(i) ?? 0;
    if (c === 1) once++;
    else if (c === 0) lost.push(i);
    else duplicated.push(i);
  }
  t.log(`exactly once ${once}, lost ${lost.length}, duplicated ${duplicated.length}`);
  t.true(log.slice(0, KILLS).every((l) => l.includes('killed=true')), 'every run but the last was killed mid-stream');
  t.deepEqual({ lost: lost.slice(0, 10), duplicated: duplicated.slice(0, 10) }, { lost: [], duplicated: [] });
  t.is(once, MESSAGES);
  t.is(counts.size, MESSAGES);
});
