import type Kafka from 'node-rdkafka';
import { ConfigError, FormatError } from '../../errors.js';
import type { ExportedModel } from '../../serving/exported-model.js';
import { log } from '../../util/log.js';
import { rdkafka } from '../kafka/rdkafka.js';
import { SyncApplier, SyncRefusedError, type ApplyResult } from './sync-apply.js';
import { decodeSyncMessage, type SyncMessage } from './sync-message.js';

export interface SyncSubscriberOptions {
  /** Bootstrap brokers, `host:port[,host:port…]`. */
  brokers: string;
  topic: string;
  /** The model updates go to, asked before every batch of messages (e.g. a server's current version). */
  target: () => ExportedModel;
  /** How long one poll waits for messages (default 100 ms). */
  pollTimeoutMs?: number;
  /** How often the topic's partitions are looked up again (default 2000 ms). */
  metadataRefreshMs?: number;
  /** More librdkafka consumer settings. */
  consumerConfig?: Record<string, string | number | boolean>;
  /** Called after each message was applied (or found stale). */
  onApplied?: (msg: SyncMessage, result: ApplyResult) => void;
}

/** Counters of a subscriber since it started. */
export interface SyncSubscriberCounts {
  messages: number;
  rowsApplied: number;
  rowsStale: number;
  denseApplied: number;
  refused: number;
  /** Highest version applied. */
  version: number;
}

const cb = <T>(fn: (done: (err: Kafka.LibrdKafkaError | null | undefined, v: T) => void) => void) =>
  new Promise<T>((res, rej) => fn((err, v) => (err ? rej(new ConfigError(`sync subscriber: ${err.message}`)) : res(v))));

/**
 * Applies a sync topic to a served model: every partition is read from the
 * offsets the loaded export recorded (`manifest.sync`; the beginning when it
 * has none), each message applied with a SyncApplier (version order per row,
 * idempotent). When the target changes (a newer export was swapped in), the
 * topic is read again from that export's offsets. A message that is malformed
 * or meant for another model / table shape is logged and skipped.
 */
export class SyncSubscriber {
  readonly counts: SyncSubscriberCounts = { messages: 0, rowsApplied: 0, rowsStale: 0, denseApplied: 0, refused: 0, version: 0 };
  private applier: SyncApplier | undefined;
  /** Next offset to read, per partition. */
  private readonly next = new Map<number, number>();
  private stopping = false;
  private readonly done: Promise<void>;
  private lastMetadata = 0;

  private constructor(
    private readonly opts: SyncSubscriberOptions,
    private readonly consumer: Kafka.KafkaConsumer,
  ) {
    this.done = this.loop().catch((err) => log.error(`sync subscriber stopped: ${(err as Error).message}`));
  }

  /** Connects and starts applying in the background. */
  static async start(opts: SyncSubscriberOptions): Promise<SyncSubscriber> {
    if (!opts.brokers) throw new ConfigError('sync subscriber: no brokers');
    if (!opts.topic) throw new ConfigError('sync subscriber: no topic');
    const { KafkaConsumer } = rdkafka('sync subscriber');
    const consumer = new KafkaConsumer(
      { 'fetch.wait.max.ms': 50, ...opts.consumerConfig, 'bootstrap.servers': opts.brokers, 'group.id': `monolith-ts-sync-${process.pid}-${Date.now()}`, 'enable.auto.commit': false },
      { 'auto.offset.reset': 'earliest' },
    );
    consumer.on('event.error', (err) => log.debug(`sync subscriber: ${err.message}`));
    await cb((done) => consumer.connect({ timeout: 10_000 }, done));
    consumer.setDefaultConsumeTimeout(opts.pollTimeoutMs ?? 100);
    return new SyncSubscriber(opts, consumer);
  }

  /** Where each partition starts for `model`: its export's sync offsets, else the beginning. */
  private startOffsets(model: ExportedModel): Map<number, number> {
    const mark = model.manifest.sync;
    if (mark && mark.topic !== this.opts.topic) log.warn(`sync subscriber: ${model.dir} recorded offsets of topic ${mark.topic}, not ${this.opts.topic}; reading ${this.opts.topic} from the beginning`);
    const at = new Map<number, number>();
    if (mark?.topic === this.opts.topic) for (const o of mark.offsets) at.set(o.partition, o.offset);
    return at;
  }

  private async refreshAssignment(model: ExportedModel, reset: boolean): Promise<void> {
    const md = await cb<Kafka.Metadata>((done) => this.consumer.getMetadata({ topic: this.opts.topic, timeout: 10_000 }, done));
    this.lastMetadata = Date.now();
    const partitions = md.topics.find((t) => t.name === this.opts.topic)?.partitions.map((p) => p.id) ?? [];
    const known = partitions.every((p) => this.next.has(p));
    if (!reset && known) return;
    const start = reset ? this.startOffsets(model) : undefined;
    if (reset) this.next.clear();
    for (const p of partitions) if (!this.next.has(p)) this.next.set(p, start?.get(p) ?? 0);
    this.consumer.assign([...this.next].map(([partition, offset]) => ({ topic: this.opts.topic, partition, offset })));
    if (reset) log.info(`sync subscriber: ${this.opts.topic} from ${[...this.next].map(([p, o]) => `${p}@${o}`).join(', ')} for version ${model.version}`);
  }

  private async loop(): Promise<void> {
    let failing = false;
    while (!this.stopping) {
      try {
        await this.step();
        if (failing) log.info(`sync subscriber: ${this.opts.topic} readable again`);
        failing = false;
      } catch (err) {
        // The broker may be down or restarting: keep serving what is applied, try again after a pause.
        if (!failing) log.warn(`sync subscriber: reading ${this.opts.topic} failed (${(err as Error).message}); retrying`);
        failing = true;
        this.lastMetadata = 0;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  /** One poll: follows a change of target, looks for new partitions now and then, applies what arrived. */
  private async step(): Promise<void> {
    const model = this.opts.target();
    if (this.applier?.model !== model) {
      await this.refreshAssignment(model, true);
      this.applier = new SyncApplier(model);
    } else if (Date.now() - this.lastMetadata >= (this.opts.metadataRefreshMs ?? 2000)) {
      await this.refreshAssignment(model, false);
    }
    if (this.next.size === 0) {
      await new Promise((r) => setTimeout(r, this.opts.pollTimeoutMs ?? 100));
      return;
    }
    const messages = await cb<Kafka.Message[]>((done) => this.consumer.consume(500, done));
    for (const m of messages) {
      if (this.stopping || this.applier!.model !== this.opts.target()) break;
      this.next.set(m.partition, m.offset + 1);
      this.handle(m);
    }
  }

  private handle(m: Kafka.Message): void {
    const where = `kafka:${m.topic}/${m.partition}@${m.offset}`;
    this.counts.messages++;
    try {
      if (!m.value) throw new FormatError('sync message: empty message', { file: where });
      const msg = decodeSyncMessage(m.value, where);
      const r = this.applier!.apply(msg, where);
      if (msg.kind === 'rows') {
        this.counts.rowsApplied += r.applied;
        this.counts.rowsStale += r.stale;
      } else this.counts.denseApplied += r.applied;
      if (r.applied) this.counts.version = Math.max(this.counts.version, msg.version);
      this.opts.onApplied?.(msg, r);
    } catch (err) {
      this.counts.refused++;
      if (err instanceof SyncRefusedError || err instanceof FormatError) log.warn(`sync subscriber: refused ${err.message}`);
      else log.error(`sync subscriber: ${where} could not be applied: ${(err as Error).message}`);
    }
  }

  /** Stops reading and disconnects. */
  async stop(): Promise<void> {
    if (this.stopping) return this.done;
    this.stopping = true;
    await this.done;
    await new Promise<void>((res) => this.consumer.disconnect(() => res()));
  }
}
