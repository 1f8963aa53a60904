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
