import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

/**
 * A CommonJS package loaded on first use rather than when monolith-ts is
 * imported (importing one from ESM also makes Node scan its source for
 * export names): for the packages few programs need (gRPC, prom-client,
 * snappy). Type with `typeof import('pkg')`.
 */
export function lazyRequire<T>(name: string): () => T {
  let mod: T | undefined;
  return () => (mod ??= load(name) as T);
}
