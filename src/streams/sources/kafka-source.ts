import { Readable } from 'node:stream';
import type Kafka from 'node-rdkafka';
import type { Observable } from 'rxjs';
import type { SourceBatch } from '../../batch/batch.js';
import { ConfigError } from '../../errors.js';
import type { PositionValue, SourcePositions } from '../../graph/source-positions.js';
import { readRecordFile, type RecordLayout } from '../../io/record-file.js';
import { log } from '../../util/log.js';
import { rdkafka } from '../kafka/rdkafka.js';
import type { ParseConfig, RecordVariant } from '../parse/parse-config.js';
import { RecordParser, type DecoderKind } from '../parse/record-parser.js';
import { OffsetTracker, type CommitPosition } from './offset-tracker.js';
import { pacedSource, type PacingOptions } from './paced-source.js';
import { RecordBatcher } from './record-batcher.js';
import { RecordCollector } from './record-collector.js';
import type { RecordSlice } from '../../workers/step-pool.js';

export interface KafkaSourceOptions extends PacingOptions {
  /** `bootstrap.servers`. */
  brokers: string;
  groupId: string;
  topics: string | string[];
  variant: RecordVariant;
  parse: ParseConfig;
  batchSize: number;
  decoder?: DecoderKind;
  /** 'message' (default): each message is one serialized Instance / Example / ExampleBatch; 'record': Monolith record framing inside the message (one or more records). */
  framing?: 'message' | 'record';
  /** Header layout for framing 'record'. Default `{ sortId: true }`. */
  layout?: RecordLayout;
  /** A partial batch is emitted once its first row has waited this long. Default 500 ms. */
  maxWaitMs?: number;
  /** How long one poll of the consumer waits for messages. Default 100 ms. */
  pollTimeoutMs?: number;
  /** Where a new group starts. Default 'earliest'. */
  autoOffsetReset?: 'earliest' | 'latest';
  /** Extra librdkafka global / topic settings (enable.auto.commit is always false). */
  consumerConfig?: Record<string, string | number | boolean>;
  topicConfig?: Record<string, string | number | boolean>;
  /** Clock for maxWaitMs. Default Date.now. */
  now?: () => number;
  /** Called after the consumer has disconnected (on completion, error or unsubscribe — within one poll of unsubscribing, even when idle). */
  onClosed?: () => void;
  /**
   * Exactly-once into the model: the pipeline's `checkpoint.positions`. Acked
   * offsets are then kept with each checkpoint and committed to the broker only
   * once that checkpoint is written; when a checkpoint was restored, every
   * assigned partition starts at the restored offset (others at the group's
   * committed offset, i.e. none yet: auto.offset.reset).
   */
  positions?: SourcePositions;
  /** Name of this source in `positions` (default 'kafka'). */
  positionsName?: string;
}

type Message = Kafka.Message;

function promisify<T>(fn: (cb: (err: unknown, v: T) => void) => void): Promise<T> {
  return new Promise<T>((res, rej) => fn((err, v) => (err ? rej(err) : res(v))));
}

/**
 * Batches from a Kafka consumer group (node-rdkafka). Auto-commit is off: a
 * batch's offsets are committed when its `ack()` is called — and only once
 * every earlier batch is acked — so batches whose step never completed are
 * read again by the next consumer of the group (at-least-once). Messages are
 * polled only while fewer than `maxUnacked` batches are un-acked.
 * Unsubscribing closes the consumer; client and parse errors become
 * Observable errors. With `positions` (and the same object as the pipeline's
 * `checkpoint.positions`) it is exactly-once into the model instead: offsets
 * travel with the checkpoints (see KafkaSourceOptions.positions).
 */
export function kafkaSource(opts: KafkaSourceOptions): Observable<SourceBatch> {
  return kafkaItems(opts, () => new RecordBatcher(new RecordParser(opts.parse, { variant: opts.variant, decoder: opts.decoder }), opts.batchSize), (batch, ack) => ({ batch, ack }));
}

/**
 * The same consumer as kafkaSource, but batches of unparsed records (each
 * named `kafka:topic/partition@offset` for errors), for a pipeline whose
 * workers parse them (`parseInWorkers`). Instance and Example records only.
 */
export function kafkaRecordSource(opts: Omit<KafkaSourceOptions, 'parse' | 'decoder'>): Observable<RecordSlice & { ack: () => void }> {
  if (opts.variant === 'example_batch') throw new ConfigError('kafkaRecordSource: an ExampleBatch record holds many rows; parse it where it is read (kafkaSource)');
  return kafkaItems(opts, () => new RecordCollector(opts.batchSize), (slice, ack) => ({ ...slice, ack }));
}

/** What kafkaItems gathers messages' records into: parsed batches or unparsed slices. */
interface Collector<T> {
  readonly bufferedRows: number;
  add(bytes: Uint8Array, origin: { file: string; offset: number }): T[];
  flush(): T | undefined;
}

function kafkaItems<T, O extends { ack?: () => void }>(opts: Omit<KafkaSourceOptions, 'parse' | 'decoder'>, makeCollector: () => Collector<T>, wrap: (item: T, ack: () => void) => O): Observable<O> {
  const topics = typeof opts.topics === 'string' ? [opts.topics] : opts.topics;
  if (!opts.brokers) throw new ConfigError('kafkaSource needs brokers (bootstrap.servers)');
  if (!opts.groupId) throw new ConfigError('kafkaSource needs a groupId');
  if (!topics?.length) throw new ConfigError('kafkaSource needs at least one topic');
  const framing = opts.framing ?? 'message';
  if (framing !== 'message' && framing !== 'record') throw new ConfigError(`framing must be 'message' or 'record', got ${String(framing)}`);
  makeCollector(); // validates the parse settings and batch size up front
  const maxWait = opts.maxWaitMs ?? 500;
  const now = opts.now ?? Date.now;
  const { KafkaConsumer, CODES } = rdkafka('kafkaSource');

  return pacedSource<O>(async function* (signal) {
    const store = opts.positions;
    const storeName = opts.positionsName ?? 'kafka';
    const restored = ((store?.restored(storeName) ?? []) as unknown as CommitPosition[]).map((p) => ({ topic: p.topic, partition: p.partition, offset: p.offset }));
    // Offsets applied to the model, per partition (starting from the restored checkpoint's).
    const applied = new Map(restored.map((p) => [`${p.topic}\u0000${p.partition}`, p]));
    const seekOnAssign = function (this: Kafka.KafkaConsumer, err: Kafka.LibrdKafkaError, assignment: Kafka.Assignment[]) {
      if (err.code === CODES.ERRORS.ERR__ASSIGN_PARTITIONS) {
        this.assign(assignment.map((a) => {
          const at = applied.get(`${a.topic}\u0000${a.partition}`);
          return at ? { topic: a.topic, partition: a.partition, offset: at.offset } : a;
        }));
      } else if (err.code === CODES.ERRORS.ERR__REVOKE_PARTITIONS) this.unassign();
    };
    const consumer = new KafkaConsumer(
      {
        ...opts.consumerConfig,
        ...(store ? { rebalance_cb: seekOnAssign } : {}),
        'bootstrap.servers': opts.brokers,
        'group.id': opts.groupId,
        'enable.auto.commit': false,
      },
      { 'auto.offset.reset': opts.autoOffsetReset ?? 'earliest', ...opts.topicConfig },
    );
    let fatal: unknown;
    consumer.on('event.error', (err) => (fatal ??= err));
    const batcher = makeCollector();
    const tracker = new OffsetTracker();
    let connected = false;
    // Commit positions of the rows in the batch being built.
    let positions = new Map<string, CommitPosition>();
    let firstRowAt = 0;

    const emit = (item: T, upTo: Map<string, CommitPosition>): O => {
      const id = tracker.add([...upTo.values()]);
      return wrap(item, () => {
        const ready = tracker.ack(id);
        if (store) {
          for (const p of ready) applied.set(`${p.topic}\u0000${p.partition}`, p);
          if (ready.length) store.applied(storeName, [...applied.values()] as unknown as PositionValue);
          return;
        }
        if (ready.length === 0 || !connected) return;
        try {
          consumer.commitSync(ready);
        } catch (err) {
          // The consumer may have lost the partition or be closing: the rows come again (at-least-once).
          log.warn(`kafkaSource: commit of ${JSON.stringify(ready)} failed: ${(err as Error).message}`);
        }
      });
    };

    const payloads = async function* (m: Message): AsyncGenerator<Uint8Array> {
      if (!m.value) return;
      if (framing === 'message') yield m.value;
      else for await (const rec of readRecordFile(Readable.from([m.value]), opts.layout ?? { sortId: true })) yield rec.payload;
    };

    // With positions, the broker learns an offset only once a checkpoint holding its effects is written.
    const unlisten = store?.onSaved((saved) => {
      const at = saved[storeName] as unknown as CommitPosition[] | undefined;
      if (!at?.length || !connected) return;
      try {
        consumer.commitSync(at);
      } catch (err) {
        log.warn(`kafkaSource: commit of the checkpoint's offsets failed: ${(err as Error).message}`);
      }
    });

    try {
      await promisify<unknown>((cb) => consumer.connect({}, cb));
      connected = true;
      consumer.subscribe(topics);
      consumer.setDefaultConsumeTimeout(opts.pollTimeoutMs ?? 100);
      // Unsubscribed: return within one poll (pollTimeoutMs), so the finally below disconnects.
      while (!signal.aborted) {
        if (fatal) throw fatal;
        const want = Math.max(1, opts.batchSize - batcher.bufferedRows);
        const messages = await promisify<Message[]>((cb) => consumer.consume(want, cb));
        if (fatal) throw fatal;
        for (const m of messages) {
          const key = `${m.topic}\u0000${m.partition}`;
          const origin = { file: `kafka:${m.topic}/${m.partition}@${m.offset}`, offset: 0 };
          for await (const payload of payloads(m)) {
            if (batcher.bufferedRows === 0) firstRowAt = now();
            const full = batcher.add(payload, origin);
            if (full.length === 0) continue;
            // Rows of `m` may carry over into the next batch: then these batches may
            // only commit up to `m` itself (it is read again if the next one is lost).
            const upTo = new Map(positions);
            upTo.set(key, { topic: m.topic, partition: m.partition, offset: batcher.bufferedRows > 0 ? m.offset : m.offset + 1 });
            for (const b of full) yield emit(b, upTo);
            positions = new Map();
            if (batcher.bufferedRows > 0) firstRowAt = now();
          }
          if (batcher.bufferedRows > 0) positions.set(key, { topic: m.topic, partition: m.partition, offset: m.offset + 1 });
          else positions.delete(key);
        }
        if (batcher.bufferedRows > 0 && now() - firstRowAt >= maxWait) {
          const last = batcher.flush()!;
          const upTo = positions;
          positions = new Map();
          yield emit(last, upTo);
        }
      }
    } finally {
      unlisten?.();
      const wasConnected = connected;
      connected = false;
      if (wasConnected) {
        // Leave the group first so the next member is assigned at once, not after session.timeout.ms.
        try {
          consumer.unsubscribe();
        } catch {
          // already unsubscribed
        }
        await new Promise<void>((res) => consumer.disconnect(() => res()));
      }
      opts.onClosed?.();
    }
  }, opts);
}
