import { ConfigError, CorruptRecordError, FidError, FormatError, MonolithError, TruncatedRecordError, type Location } from '../errors.js';

/** An error as it crosses a thread boundary: its class name, message, stack and location fields. */
export interface TransferredError {
  transferredError: string;
  message: string;
  stack?: string;
  loc: Location;
}

const CLASSES: Record<string, new (message: string) => Error> = { FormatError, CorruptRecordError, TruncatedRecordError, ConfigError, FidError, MonolithError };

/**
 * Structured clone keeps an Error's message but not its class or fields: a
 * FormatError thrown in a worker would arrive as a plain Error without the
 * file, offset, field or slot it names. This packs the typed errors of
 * errors.ts; anything else is passed through as is.
 */
export function packError(err: unknown): unknown {
  if (!(err instanceof MonolithError) || !(err.name in CLASSES)) return err;
  const e = err as MonolithError & Location;
  const loc: Location = {};
  for (const k of ['file', 'offset', 'field', 'slot'] as const) if (e[k] !== undefined) (loc as Record<string, unknown>)[k] = e[k];
  return { transferredError: err.name, message: err.message, stack: err.stack, loc } satisfies TransferredError;
}

/** The error `packError` packed, as an instance of its class again (message unchanged). */
export function unpackError(x: unknown): unknown {
  if (typeof x !== 'object' || x === null || typeof (x as TransferredError).transferredError !== 'string') return x;
  const t = x as TransferredError;
  const Cls = CLASSES[t.transferredError];
  if (!Cls) return x;
  const err = new Cls('');
  err.message = t.message;
  if (t.stack) err.stack = t.stack;
  Object.assign(err, t.loc);
  return err;
}
