import { MonolithError } from '../errors.js';

/** gRPC status names a serving error maps to. */
export type ServingErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'FAILED_PRECONDITION'
  | 'UNAVAILABLE'
  | 'RESOURCE_EXHAUSTED'
  | 'INTERNAL'
  | 'CANCELLED'
  | 'DEADLINE_EXCEEDED'
  | 'UNIMPLEMENTED';

/** A request the servable refuses; the server answers with `code`. */
export class ServingError extends MonolithError {
  constructor(
    readonly code: ServingErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const invalidArgument = (msg: string, cause?: unknown) => new ServingError('INVALID_ARGUMENT', msg, cause ? { cause } : undefined);
export const notFound = (msg: string) => new ServingError('NOT_FOUND', msg);

/** Longest client-supplied name quoted in an error message. */
const MAX_QUOTED = 200;

/** A client-supplied name for an error message: cut to a bounded length so answers stay small. */
export function quoted(name: string): string {
  return name.length > MAX_QUOTED ? `${name.slice(0, MAX_QUOTED)}…(${name.length} chars)` : name;
}

/** A list of names for an error message, bounded in count and length. */
export function quotedSet(names: readonly string[]): string {
  const shown = names.slice(0, 20).map(quoted);
  return `{${shown.join(',')}${names.length > shown.length ? `,…(${names.length} in all)` : ''}}`;
}

/** The status of an error: ServingErrors keep their code, other library errors are INVALID_ARGUMENT, the rest INTERNAL. */
export function statusOf(err: unknown): { code: ServingErrorCode; message: string } {
  const message = (err as Error)?.message ?? String(err);
  if (err instanceof ServingError) return { code: err.code, message };
  return { code: err instanceof MonolithError ? 'INVALID_ARGUMENT' : 'INTERNAL', message };
}
