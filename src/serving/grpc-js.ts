import { lazyRequire } from '../util/lazy-require.js';

/** @grpc/grpc-js, loaded when a server or client is first made (not when monolith-ts is imported). */
export const grpcJs = lazyRequire<typeof import('@grpc/grpc-js')>('@grpc/grpc-js');
