import { createRequire } from 'node:module';
import type * as RdKafka from 'node-rdkafka';
import { ConfigError } from '../../errors.js';

/**
 * A Kafka feature was used but the optional `node-rdkafka` package is not
 * installed (or its native addon does not load on this machine).
 */
export class KafkaUnavailableError extends ConfigError {
  constructor(feature: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    super(
      `${feature} needs the optional package node-rdkafka, which could not be loaded (${why}); ` +
        'install it with `npm install node-rdkafka` (it builds librdkafka once)',
      { cause },
    );
  }
}

type RdKafkaModule = typeof RdKafka;
let loaded: RdKafkaModule | undefined;

/**
 * node-rdkafka, loaded on first use only: importing monolith-ts never loads
 * the native addon (it cannot load twice in one process, so worker threads
 * must never touch it), and an install without the optional package works
 * for everything but Kafka.
 */
export function rdkafka(feature: string): RdKafkaModule {
  if (loaded) return loaded;
  try {
    loaded = createRequire(import.meta.url)('node-rdkafka') as RdKafkaModule;
  } catch (e) {
    throw new KafkaUnavailableError(feature, e);
  }
  return loaded;
}
