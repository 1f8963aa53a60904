import { MonolithError } from '../errors.js';

/** gRPC status names a serving error maps to. */
export type ServingErrorCode = 'INVALID_ARGUMENT' | 'NOT_FOUND' | 'FAILED_PRECONDITION' | 'UNAVAILABLE' | 'RESOURCE_EXHAUSTED' | 'INTERNAL';

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
