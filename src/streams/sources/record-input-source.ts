import { map, type Observable } from 'rxjs';
import type { SourceBatch } from '../../batch/batch.js';
import type { RecordSlice } from '../../workers/step-pool.js';
import { fileBatches, fileRecordSlices } from './file-source.js';
import { kafkaRecordSource, kafkaSource } from './kafka-source.js';
import { framingOf, groupDense, kafkaFramingOf, type RecordInput } from './record-input.js';

export interface RecordFilesOptions {
  files: string[];
  input: RecordInput;
  batchSize: number;
  /** Called when a file has been read to its end, with the rows read from it. */
  onFileRead?: (file: string, rows: number) => void;
}

/**
 * Batches of the records of `files`, one file after the other, framed and
 * parsed as `input` says, with dense groups applied. A file's last batch may
 * be partial, so every row of every file is read exactly once.
 */
export function recordFileBatches(opts: RecordFilesOptions): AsyncGenerator<SourceBatch> {
  return eachFile(
    opts,
    async function* (read) {
      for await (const sb of fileBatches({ ...read, parse: opts.input.parse })) yield { ...sb, batch: groupDense(sb.batch, opts.input.denseGroups) };
    },
    (sb) => sb.batch.rows,
  );
}

/**
 * The records of `files` in slices of `batchSize`, unparsed (a file's last
 * slice may be partial), for workers that parse them with
 * `recordInputParser(input)`. Only for inputs of one row per record (not ExampleBatch).
 */
export function recordFileSlices(opts: RecordFilesOptions): AsyncGenerator<RecordSlice> {
  return eachFile(opts, fileRecordSlices, (slice) => slice.records.length);
}

/** Reads `opts.files` one after the other, each framed as `opts.input` says, telling `onFileRead` the rows of each. */
async function* eachFile<T>(opts: RecordFilesOptions, read: (o: ReturnType<typeof fileReadOptions>) => AsyncIterable<T>, rowsOf: (item: T) => number): AsyncGenerator<T> {
  for (const file of opts.files) {
    let rows = 0;
    for await (const item of read(fileReadOptions(opts, file))) {
      rows += rowsOf(item);
      yield item;
    }
    opts.onFileRead?.(file, rows);
  }
}

function fileReadOptions(opts: RecordFilesOptions, file: string) {
  const f = framingOf(opts.input.format);
  return { paths: [file], variant: opts.input.variant, batchSize: opts.batchSize, framing: f.framing, layout: f.layout };
}

export interface RecordTopicOptions {
  brokers: string;
  topic: string;
  groupId: string;
  input: RecordInput;
  batchSize: number;
  /** Extra librdkafka consumer settings (e.g. session.timeout.ms). */
  consumerConfig?: Record<string, string | number | boolean>;
}

/** Batches from a Kafka topic, framed and parsed as `input` says, with dense groups applied. */
export function recordTopicSource(opts: RecordTopicOptions): Observable<SourceBatch> {
  return kafkaSource({ ...topicReadOptions(opts), parse: opts.input.parse }).pipe(
    map((sb) => ({ ...sb, batch: groupDense(sb.batch, opts.input.denseGroups) })),
  );
}

/**
 * The same topic as recordTopicSource, in batches of unparsed records for
 * workers that parse them with `recordInputParser(input)`. Only for inputs of
 * one row per record (not ExampleBatch).
 */
export function recordTopicSlices(opts: RecordTopicOptions): Observable<RecordSlice & { ack: () => void }> {
  return kafkaRecordSource(topicReadOptions(opts));
}

function topicReadOptions(opts: RecordTopicOptions) {
  const f = kafkaFramingOf(opts.input.format);
  return { brokers: opts.brokers, topics: opts.topic, groupId: opts.groupId, variant: opts.input.variant, batchSize: opts.batchSize, framing: f.framing, layout: f.layout, consumerConfig: opts.consumerConfig };
}
