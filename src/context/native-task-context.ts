/**
 * The per-process task context (native_task_context.py): which server this
 * process is and of which model. A module-level value, as in the seed; it is
 * not per async call chain.
 */
export interface NativeTaskContext {
  numPs: number;
  psIndex: number;
  numWorkers: number;
  workerIndex: number;
  modelName: string;
  /** The agent service's sync backend, when one is in use. */
  syncBackend: unknown;
  /** 'worker', 'ps', … ('' when unset). */
  serverType: string;
}

let current: NativeTaskContext | undefined;

/** A fresh default context (what `get()` returns when none was set). */
export function defaultTaskContext(): NativeTaskContext {
  return { numPs: 0, psIndex: 0, numWorkers: 1, workerIndex: 0, serverType: '', modelName: '', syncBackend: null };
}

/** The current context, or a new default one when none was ever set (not a copy: the same object). */
export function getTaskContext(): NativeTaskContext {
  return current ?? defaultTaskContext();
}

/**
 * Runs `fn` with `ctx` as the current context. Afterwards the previous
 * context is restored only if there was one: leaving the outermost
 * `withCtx` keeps `ctx` set (the seed's semantics, kept on purpose). When
 * `fn` returns a promise the restore happens once it settles.
 */
export function withCtx<T>(ctx: NativeTaskContext, fn: () => T): T {
  const old = current;
  current = ctx;
  const restore = () => {
    if (old !== undefined) current = old;
  };
  let result: T;
  try {
    result = fn();
  } catch (err) {
    restore();
    throw err;
  }
  if (result instanceof Promise) return result.finally(restore) as T;
  restore();
  return result;
}

/** Forgets the current context (tests; the seed has no equivalent). */
export function resetTaskContext(): void {
  current = undefined;
}
