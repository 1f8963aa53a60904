import { constants } from 'node:os';
import type { MonoTypeOperatorFunction } from 'rxjs';
import { getTaskContext, type NativeTaskContext } from '../../context/native-task-context.js';
import { defaultMetricsClient } from '../../metrics/default-client.js';
import type { MetricsClient } from '../../metrics/metrics-client.js';
import { log } from '../../util/log.js';
import { passThrough } from './pass-through.js';

export type ExitSignal = 'SIGHUP' | 'SIGINT' | 'SIGTERM';

export interface ExitHookOptions {
  client?: MetricsClient;
  /** Where server_type and the index come from (default the current task context). */
  context?: () => NativeTaskContext;
  /** What ends the process; receives the signal number (the seed's `sys.exit(signo)`). Default process.exit. */
  exit?: (code: number, signal: ExitSignal) => void | Promise<void>;
  signals?: readonly ExitSignal[];
}

/**
 * exit_hook: while subscribed, SIGHUP / SIGINT / SIGTERM emit the
 * `exit_hook` counter tagged server_type, index (the worker index on
 * workers, else the PS index) and sig (the signal number), then exit with
 * the signal number. The handlers are removed when the stream ends.
 */
export function exitHook<T>(opts: ExitHookOptions = {}): MonoTypeOperatorFunction<T> {
  const signals = opts.signals ?? ['SIGHUP', 'SIGINT', 'SIGTERM'];
  return passThrough<T>((fail) => {
    const handlers = new Map<ExitSignal, () => void>();
    for (const sig of signals) {
      const handler = () => {
        const signo = constants.signals[sig];
        const ctx = (opts.context ?? getTaskContext)();
        const index = ctx.serverType === 'worker' ? ctx.workerIndex : ctx.psIndex;
        (opts.client ?? defaultMetricsClient()).emitCounter('exit_hook', 1, {
          server_type: ctx.serverType,
          index: String(index),
          sig: String(signo),
        });
        log.warn(`exit hook: ${sig} received, exiting with code ${signo}`);
        const exit = opts.exit ?? ((code: number) => process.exit(code));
        Promise.resolve()
          .then(() => exit(signo, sig))
          .catch((err: unknown) => fail(err));
      };
      handlers.set(sig, handler);
      process.on(sig, handler);
    }
    return {
      teardown() {
        for (const [sig, handler] of handlers) process.off(sig, handler);
        handlers.clear();
      },
    };
  });
}
