import type Kafka from 'node-rdkafka';
import type { LibrdKafkaError, Producer } from 'node-rdkafka';
import { ConfigError } from '../../errors.js';
import { log } from '../../util/log.js';
import { rdkafka } from '../kafka/rdkafka.js';

export interface KProducerOptions {
  /** Bootstrap brokers, `host:port[,host:port…]`. */
  brokers: string;
  topic: string;
  /** More librdkafka settings; topic-level ones (`message.timeout.ms`, `acks`, …) are moved to the topic config. */
  config?: Record<string, string | number | boolean>;
  /** librdkafka topic settings. */
  topicConfig?: Record<string, string | number | boolean>;
  /** How often delivery reports are polled (default 100 ms). */
  pollIntervalMs?: number;
  /** How long to wait for the first metadata (default 10 s). */
  connectTimeoutMs?: number;
  /** How long close() waits for outstanding deliveries (default 10 s). */
  flushTimeoutMs?: number;
}

export interface KProducerCounts {
  total: number;
  success: number;
  failed: number;
}

export type KafkaMessage = string | Uint8Array;

/** librdkafka properties that only take effect in the topic configuration. */
const TOPIC_LEVEL = new Set([
  'acks',
  'request.required.acks',
  'request.timeout.ms',
  'message.timeout.ms',
  'delivery.timeout.ms',
  'partitioner',
  'compression.codec',
  'compression.type',
  'compression.level',
]);

/**
 * KProducer on node-rdkafka: `send()` never blocks; messages wait in a
 * queue until the producer is connected and librdkafka has room, and
 * librdkafka's own thread delivers them. Counts messages accepted (total),
 * delivered (success) and lost (failed). `close()` flushes, disconnects and
 * counts what could not be delivered as failed.
 */
export class KProducer {
  private readonly producer: Producer;
  private readonly pending: Buffer[] = [];
  private state: 'connecting' | 'ready' | 'down' | 'closed' = 'connecting';
  private counts: KProducerCounts = { total: 0, success: 0, failed: 0 };
  private loggedFirst = 0;
  private closing: Promise<KProducerCounts> | undefined;
  /** Settles once the first connection attempt has. */
  readonly connected: Promise<boolean>;

  constructor(private readonly opts: KProducerOptions) {
    if (!opts.brokers) throw new ConfigError('kafka producer: no brokers');
    if (!opts.topic) throw new ConfigError('kafka producer: no topic');
    const global: Record<string, string | number | boolean> = { 'metadata.broker.list': opts.brokers, dr_cb: true };
    const topicConf: Record<string, string | number | boolean> = {};
    for (const [k, v] of Object.entries(opts.config ?? {})) (TOPIC_LEVEL.has(k) ? topicConf : global)[k] = v;
    Object.assign(topicConf, opts.topicConfig);
    this.producer = new (rdkafka('KProducer').Producer)(global as Kafka.ProducerGlobalConfig, topicConf as Kafka.ProducerTopicConfig);
    this.producer.on('delivery-report', (err: LibrdKafkaError | null) => {
      if (err) {
        this.counts.failed += 1;
        log.warn(`kafka producer: send metric to kafka error: ${err.message}`);
      } else {
        this.counts.success += 1;
      }
      this.pump();
    });
    this.producer.on('event.error', (err: LibrdKafkaError) => log.debug(`kafka producer: ${err.message}`));
    this.connected = new Promise<boolean>((resolve) => {
      this.producer.connect({ timeout: opts.connectTimeoutMs ?? 10_000 }, (err) => {
        if (err) {
          log.warn(`kafka producer: cannot connect to ${opts.brokers}: ${err.message}`);
          this.state = 'down';
          this.counts.failed += this.pending.length;
          this.pending.length = 0;
          resolve(false);
          return;
        }
        if (this.state === 'connecting') this.state = 'ready';
        this.producer.setPollInterval(opts.pollIntervalMs ?? 100);
        this.pump();
        resolve(true);
      });
    });
  }

  get total(): number {
    return this.counts.total;
  }
  get success(): number {
    return this.counts.success;
  }
  get failed(): number {
    return this.counts.failed;
  }

  /** Queues one message or several; null, undefined and empty messages are dropped. */
  send(msgs: KafkaMessage | readonly (KafkaMessage | null | undefined)[] | null | undefined): void {
    if (msgs === null || msgs === undefined) return;
    const list = typeof msgs === 'string' || msgs instanceof Uint8Array ? [msgs] : msgs;
    const kept = list.filter((m): m is KafkaMessage => m !== null && m !== undefined && m.length > 0);
    if (kept.length === 0) return;
    if (this.state === 'closed') throw new ConfigError('kafka producer: send after close');
    if (this.loggedFirst < 10) {
      this.loggedFirst += 1;
      log.info(`kafka producer: ${String(kept[0]).slice(0, 200)}`);
    }
    this.counts.total += kept.length;
    if (this.state === 'down') {
      this.counts.failed += kept.length;
      return;
    }
    for (const m of kept) this.pending.push(typeof m === 'string' ? Buffer.from(m, 'utf8') : Buffer.from(m.buffer, m.byteOffset, m.byteLength));
    this.pump();
  }

  /** Hands queued messages to librdkafka until its queue is full. */
  private pump(): void {
    if (this.state !== 'ready' && !(this.state === 'closed' && this.producer.isConnected())) return;
    while (this.pending.length > 0) {
      try {
        this.producer.produce(this.opts.topic, null, this.pending[0]!);
      } catch (err) {
        if ((err as LibrdKafkaError).code === rdkafka('KProducer').CODES.ERRORS.ERR__QUEUE_FULL) return;
        this.counts.failed += 1;
        log.warn(`kafka producer: produce failed: ${(err as Error).message}`);
      }
      this.pending.shift();
    }
  }

  /** Sends what is queued, waits for deliveries (flushTimeoutMs at most), disconnects; the final counts. */
  close(): Promise<KProducerCounts> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<KProducerCounts> {
    const wasUp = await this.connected;
    this.state = 'closed';
    if (wasUp) {
      const deadline = Date.now() + (this.opts.flushTimeoutMs ?? 10_000);
      while (Date.now() < deadline) {
        this.pump();
        const left = Math.max(1, deadline - Date.now());
        const flushed = await new Promise<boolean>((resolve) => this.producer.flush(Math.min(left, 200), (err) => resolve(!err)));
        if (flushed && this.pending.length === 0) break;
      }
      this.producer.setPollInterval(0);
      // deliveries reported by the last flush are counted by now; disconnect drops the rest
      await new Promise<void>((resolve) => this.producer.disconnect(5_000, () => resolve()));
    }
    const lost = this.counts.total - this.counts.success - this.counts.failed;
    if (lost > 0) {
      log.warn(`kafka producer: ${lost} messages not delivered before close`);
      this.counts.failed += lost;
    }
    this.pending.length = 0;
    log.info(`kafka producer closed: success ${this.counts.success}, failed ${this.counts.failed}`);
    return { ...this.counts };
  }
}
