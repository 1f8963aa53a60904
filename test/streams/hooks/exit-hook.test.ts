import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, NEVER, of, Subject } from 'rxjs';
import { MemoryMetricsClient } from '../../../src/metrics/memory-client.js';
import { exitHook, type ExitSignal } from '../../../src/streams/hooks/exit-hook.js';
import { defaultTaskContext } from '../../../src/context/native-task-context.js';

test.serial('a real SIGHUP emits exit_hook tagged server_type / index / sig, then calls exit with the signal number', async (t) => {
  const client = new MemoryMetricsClient();
  const before = process.listenerCount('SIGHUP');
  let exited!: (v: [number, ExitSignal]) => void;
  const exitCalled = new Promise<[number, ExitSignal]>((r) => (exited = r));
  const ctx = { ...defaultTaskContext(), serverType: 'worker', workerIndex: 3, psIndex: 1 };
  const sub = NEVER.pipe(exitHook({ client, context: () => ctx, exit: (code, sig) => exited([code, sig]) })).subscribe();
  t.is(process.listenerCount('SIGHUP'), before + 1);
  // signal delivery is asynchronous and does not keep the event loop alive: hold it until the handler ran
  const keepAlive = setInterval(() => undefined, 1000);
  process.kill(process.pid, 'SIGHUP');
  const result = await exitCalled;
  clearInterval(keepAlive);
  t.deepEqual(result, [constants.signals.SIGHUP, 'SIGHUP']);
  t.deepEqual(
    client.points.map((p) => [p.kind, p.name, p.value, p.tags]),
    [['counter', 'exit_hook', 1, { server_type: 'worker', index: '3', sig: String(constants.signals.SIGHUP) }]],
  );
  sub.unsubscribe();
  t.is(process.listenerCount('SIGHUP'), before, 'handlers removed on unsubscribe');
});

test.serial('on a PS the index tag is the PS index; handlers are removed when the stream completes', async (t) => {
  const client = new MemoryMetricsClient();
  const signals = ['SIGHUP', 'SIGINT', 'SIGTERM'] as const;
  const before = signals.map((s) => process.listenerCount(s));
  const subject = new Subject<number>();
  let code: number | undefined;
  const done = lastValueFrom(subject.pipe(exitHook({ client, context: () => ({ ...defaultTaskContext(), serverType: 'ps', workerIndex: 7, psIndex: 2 }), exit: (c) => void (code = c) })));
  t.deepEqual(signals.map((s) => process.listenerCount(s)), before.map((n) => n + 1));
  process.emit('SIGTERM', 'SIGTERM');
  await Promise.resolve();
  t.is(code, constants.signals.SIGTERM);
  t.deepEqual(client.points[0]!.tags, { server_type: 'ps', index: '2', sig: String(constants.signals.SIGTERM) });
  subject.next(1);
  subject.complete();
  t.is(await done, 1);
  t.deepEqual(signals.map((s) => process.listenerCount(s)), before);
});

test('without a signal nothing is emitted', async (t) => {
  const client = new MemoryMetricsClient();
  await lastValueFrom(of(1, 2).pipe(exitHook({ client, exit: () => t.fail() })));
  t.is(client.points.length, 0);
});

test('default exit: a process receiving SIGTERM exits with code 15 after emitting the counter', async (t) => {
  const script = fileURLToPath(new URL('./exit-hook-child.js', import.meta.url));
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    out += d;
    if (d.includes('ready')) child.kill('SIGTERM');
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  t.is(code, constants.signals.SIGTERM);
  t.regex(out, /exit_hook 1 \{"server_type":"worker","index":"0","sig":"15"\}/);
});
