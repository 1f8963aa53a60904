import { createRequire } from 'node:module';
import type * as RdKafka from 'node-rdkafka';
import { KafkaUnavailableError } from './kafka-unavailable-error.js';

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
