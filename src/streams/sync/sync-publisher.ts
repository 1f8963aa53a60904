import type Kafka from 'node-rdkafka';
import type { LibrdKafkaError, Producer } from 'node-rdkafka';
import { Observable, type OperatorFunction } from 'rxjs';
import { ConfigError } from '../../errors.js';
import type { SyncMark } from '../../export/export-manifest.js';
import type { NamedOperator } from '../../graph/training-pipeline.js';
import type { StepResult } from '../../graph/step-result.js';
import type { EmbeddingHashTable } from '../../hashtable/embedding-hash-table.js';
import { log } from '../../util/log.js';
import type { SharedDenseParams } from '../../workers/shared-dense-params.js';
import { rdkafka } from '../kafka/rdkafka.js';
import { encodeSyncMessage } from './sync-message.js';
import { UpdatedIds } from './updated-ids.js';

export interface SyncPublisherOptions {
  /** Bootstrap brokers, `host:port[,host:port…]`. */
  brokers: string;
  topic: string;
  /** The model identity stamped on every message (default: the trained model's name). */
  modelName?: string;
  /** Names the publisher in its messages (default `trainer-<pid>`). */
  publisher?: string;
  /** Updated rows are published at least this often (default 500 ms). */
  flushIntervalMs?: number;
  /** Rows per message; this many pending rows also trigger a publish (default 4096). */
  maxRows?: number;
  /** Dense weights are published every this many global steps (default 100; 0: only at exports and at the end). */
  denseEverySteps?: number;
  /** Publish the values as IEEE halves: every table, or the named ones (as the export's fp16 option). */
  fp16?: boolean | string[];
  /** More librdkafka producer settings. */
  producerConfig?: Record<string, string | number | boolean>;
  /** How long `mark()` / `close()` wait for deliveries (default 30000 ms). */
  deliveryTimeoutMs?: number;
}

interface Attached {
  modelName: string;
  tables: Record<string, EmbeddingHashTable>;
  dense: SharedDenseParams;
}

type Opaque = { table: string; ids: Uint32Array } | undefined;

const cb = <T>(fn: (done: (err: LibrdKafkaError | null | undefined, v: T) => void) => void) =>
  new Promise<T>((res, rej) => fn((err, v) => (err ? rej(new ConfigError(`sync publisher: ${err.message}`)) : res(v))));

/**
 * Publishes what training changes to a Kafka topic, for serving replicas
 * (`serve --sync-topic`): the rows each step updated (their serving values —
 * the embeddings — read from the live tables, fp16 when configured) in
 * messages of at most `maxRows` rows, at least every `flushIntervalMs`, and the
 * dense weights every `denseEverySteps` steps. Every message carries the model
 * name and the global step at which its values were read (its version).
 * Delivery is at-least-once: a message librdkafka gives up on puts its rows
 * back into the next publish.
 */
export class SyncPublisher {
  private attached: Attached | undefined;
  private readonly pending = new UpdatedIds();
  private readonly backlog: { value: Buffer; key: string; opaque: Opaque }[] = [];
  private lastDenseStep = 0;
  private closed = false;
  /** Messages and rows handed to Kafka, and messages that failed delivery. */
  readonly counts = { rowMessages: 0, rows: 0, denseMessages: 0, failed: 0 };

  private constructor(
    private readonly opts: SyncPublisherOptions,
    private readonly producer: Producer,
  ) {}

  /** Connects a producer to `brokers`; the publisher works once attached to a pipeline (`operator()`) or to tables (`attach`). */
  static async open(opts: SyncPublisherOptions): Promise<SyncPublisher> {
    if (!opts.brokers) throw new ConfigError('sync publisher: no brokers');
    if (!opts.topic) throw new ConfigError('sync publisher: no topic');
    for (const k of ['flushIntervalMs', 'maxRows', 'denseEverySteps', 'deliveryTimeoutMs'] as const) {
      const v = opts[k];
      if (v !== undefined && (!Number.isInteger(v) || v < (k === 'denseEverySteps' ? 0 : 1))) throw new ConfigError(`sync publisher: ${k} must be a ${k === 'denseEverySteps' ? 'non-negative' : 'positive'} integer, got ${v}`);
    }
    const { Producer } = rdkafka('sync publisher');
    const producer = new Producer({ 'linger.ms': 5, ...opts.producerConfig, 'metadata.broker.list': opts.brokers, dr_cb: true } as Kafka.ProducerGlobalConfig, {});
    const p = new SyncPublisher(opts, producer);
    producer.on('delivery-report', (err, report) => p.delivered(err, report.opaque as Opaque));
    producer.on('event.error', (err: LibrdKafkaError) => log.debug(`sync publisher: ${err.message}`));
    await cb((done) => producer.connect({ timeout: 10_000 }, done));
    producer.setPollInterval(50);
    return p;
  }

  get topic(): string {
    return this.opts.topic;
  }

  /** Publishes from these tables and dense parameters (the operator does this with its pipeline's). */
  attach(p: { modelName: string; tables: Record<string, EmbeddingHashTable>; dense: SharedDenseParams }): void {
    this.attached = { modelName: this.opts.modelName ?? p.modelName, tables: p.tables, dense: p.dense };
    this.lastDenseStep = p.dense.globalStep;
  }

  /**
   * The publisher as a training-graph operator (a hook): it collects the ids
   * every train step updated, publishes on its timer, and on completion
   * publishes everything left (rows and dense weights) before completing.
   */
  operator(): NamedOperator {
    return {
      name: 'sync-publisher',
      sparseUpdates: true,
      make: ({ spec, tables, dense }) => {
        this.attach({ modelName: spec.name, tables, dense });
        return this.tapOperator();
      },
    };
  }

  private tapOperator(): OperatorFunction<StepResult, StepResult> {
    return (source) =>
      new Observable<StepResult>((sub) => {
        const timer = setInterval(() => this.guard(() => this.publishRows()), this.opts.flushIntervalMs ?? 500);
        const inner = source.subscribe({
          next: (r) => {
            this.note(r);
            sub.next(r);
          },
          error: (e) => {
            clearInterval(timer);
            sub.error(e);
          },
          complete: () => {
            clearInterval(timer);
            this.mark().then(
              () => sub.complete(),
              (e) => sub.error(e),
            );
          },
        });
        return () => {
          clearInterval(timer);
          inner.unsubscribe();
        };
      });
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      log.warn(`sync publisher: ${(err as Error).message}`);
    }
  }

  /** Takes note of one step's updated ids; publishes when enough rows are pending or the dense weights are due. */
  note(r: StepResult): void {
    if (r.mode !== 'train' || !r.sparseUpdates) return;
    for (const u of r.sparseUpdates) if (u.fids.length) this.pending.add(u.table, u.fids);
    if (this.pending.size >= (this.opts.maxRows ?? 4096)) this.publishRows();
    const every = this.opts.denseEverySteps ?? 100;
    if (every > 0 && r.step - this.lastDenseStep >= every) this.publishDense();
  }

  private get model(): Attached {
    if (!this.attached) throw new ConfigError('sync publisher: not attached to a model (use operator() in a training pipeline, or attach())');
    return this.attached;
  }

  private isFp16(table: string): boolean {
    const f = this.opts.fp16;
    return Array.isArray(f) ? f.includes(table) : !!f;
  }

  /** Publishes the current values of every pending row. */
  publishRows(): void {
    if (this.closed) return;
    const { modelName, tables, dense } = this.model;
    const max = this.opts.maxRows ?? 4096;
    for (const [name, ids] of this.pending.drain(max)) {
      const table = tables[name];
      if (!table) throw new ConfigError(`sync publisher: the step updated table ${name}, which the model does not have`);
      const version = dense.globalStep;
      const values = table.lookupOnly(ids);
      const fp16 = this.isFp16(name);
      const msg = encodeSyncMessage({ kind: 'rows', modelName, version, publishedAt: Date.now(), publisher: this.publisherName, table: name, dim: table.dim, fp16, ids, values });
      this.produce(msg, `${modelName}/${name}`, { table: name, ids });
      this.counts.rowMessages++;
      this.counts.rows += ids.length >>> 1;
    }
  }

  /** Publishes the dense weights as they are now. */
  publishDense(): void {
    if (this.closed) return;
    const { modelName, dense } = this.model;
    const version = dense.globalStep;
    this.lastDenseStep = version;
    const params = dense.params.map((p, i) => ({ name: p.name, shape: p.shape, values: dense.weights[i]!.slice() }));
    this.produce(encodeSyncMessage({ kind: 'dense', modelName, version, publishedAt: Date.now(), publisher: this.publisherName, params }), `${modelName}/dense`, undefined);
    this.counts.denseMessages++;
  }

  private get publisherName(): string {
    return this.opts.publisher ?? `trainer-${process.pid}`;
  }

  private produce(value: Uint8Array, key: string, opaque: Opaque): void {
    this.backlog.push({ value: Buffer.from(value.buffer, value.byteOffset, value.byteLength), key, opaque });
    this.pump();
  }

  private pump(): void {
    while (this.backlog.length) {
      const m = this.backlog[0]!;
      try {
        this.producer.produce(this.opts.topic, null, m.value, m.key, Date.now(), m.opaque);
      } catch (err) {
        if ((err as LibrdKafkaError).code === rdkafka('sync publisher').CODES.ERRORS.ERR__QUEUE_FULL) return;
        throw new ConfigError(`sync publisher: produce to ${this.opts.topic} failed: ${(err as Error).message}`, { cause: err });
      }
      this.backlog.shift();
    }
  }

  private delivered(err: LibrdKafkaError | null, opaque: Opaque): void {
    if (err) {
      this.counts.failed++;
      log.warn(`sync publisher: a message to ${this.opts.topic} was not delivered (${err.message})${opaque ? `; its ${opaque.ids.length >>> 1} rows of ${opaque.table} go out again` : '; the dense weights go out again'}`);
      if (opaque) this.pending.add(opaque.table, opaque.ids);
      else this.lastDenseStep = -Infinity;
    }
    this.guard(() => this.pump());
  }

  /**
   * Publishes every pending row and the dense weights, waits until Kafka has
   * them, and returns the topic's high-water marks: an export records them, so
   * a replica loading it replays exactly what came after.
   */
  async mark(): Promise<SyncMark> {
    this.publishRows();
    this.publishDense();
    const deadline = Date.now() + (this.opts.deliveryTimeoutMs ?? 30_000);
    for (;;) {
      this.pump();
      const left = deadline - Date.now();
      if (left <= 0) throw new ConfigError(`sync publisher: messages to ${this.opts.topic} not delivered within ${this.opts.deliveryTimeoutMs ?? 30_000} ms`);
      await cb((done) => this.producer.flush(Math.min(left, 1000), (e) => done(e, undefined)));
      if (this.backlog.length === 0 && this.pending.size === 0) break;
      this.publishRows(); // rows put back by a failed delivery
    }
    const md = await cb<Kafka.Metadata>((done) => this.producer.getMetadata({ topic: this.opts.topic, timeout: 10_000 }, done));
    const partitions = md.topics.find((t) => t.name === this.opts.topic)?.partitions ?? [];
    const offsets = [];
    for (const p of [...partitions].sort((a, b) => a.id - b.id)) {
      const w = await cb<Kafka.WatermarkOffsets>((done) => this.producer.queryWatermarkOffsets(this.opts.topic, p.id, 10_000, done));
      offsets.push({ partition: p.id, offset: w.highOffset });
    }
    return { topic: this.opts.topic, offsets };
  }

  /** Publishes what is pending (when attached), waits for deliveries, disconnects. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (this.attached) await this.mark();
    } finally {
      this.closed = true;
      this.producer.setPollInterval(0);
      await new Promise<void>((res) => this.producer.disconnect(5_000, () => res()));
    }
  }
}
