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
export async function* recordFileBatches(opts: RecordFilesOptions): AsyncGenerator<SourceBatch> {
  const f = framingOf(opts.input.format);
  for (const file of opts.files) {
    let rows = 0;
    for await (const sb of fileBatches({ paths: [file], variant: opts.input.variant, parse: opts.input.parse, batchSize: opts.batchSize, framing: f.framing, layout: f.layout })) {
      rows += sb.batch.rows;
      yield { ...sb, batch: groupDense(sb.batch, opts.input.denseGroups) };
    }
    opts.onFileRead?.(file, rows);
  }
}

/**
 * The records of `files` in slices of `batchSize`, unparsed (a file's last
 * slice may be partial), for workers that parse them with
 * `recordInputParser(input)`. Only for inputs of one row per record (not ExampleBatch).
 */
export async function* recordFileSlices(opts: RecordFilesOptions): AsyncGenerator<RecordSlice> {
  const f = framingOf(opts.input.format);
  for (const file of opts.files) {
    let rows = 0;
    for await (const slice of fileRecordSlices({ paths: [file], variant: opts.input.variant, batchSize: opts.batchSize, framing: f.framing, layout: f.layout })) {
      rows += slice.records.length;
      yield slice;
    }
    opts.onFileRead?.(file, rows);
  }
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
  const f = kafkaFramingOf(opts.input.format);
  return kafkaSource({ brokers: opts.brokers, topics: opts.topic, groupId: opts.groupId, variant: opts.input.variant, parse: opts.input.parse, batchSize: opts.batchSize, framing: f.framing, layout: f.layout, consumerConfig: opts.consumerConfig }).pipe(
    map((sb) => ({ ...sb, batch: groupDense(sb.batch, opts.input.denseGroups) })),
  );
}

/**
 * The same topic as recordTopicSource, in batches of unparsed records for
 * workers that parse them with `recordInputParser(input)`. Only for inputs of
 * one row per record (not ExampleBatch).
 */
export function recordTopicSlices(opts: RecordTopicOptions): Observable<RecordSlice & { ack: () => void }> {
  const f = kafkaFramingOf(opts.input.format);
  return kafkaRecordSource({ brokers: opts.brokers, topics: opts.topic, groupId: opts.groupId, variant: opts.input.variant, batchSize: opts.batchSize, framing: f.framing, layout: f.layout, consumerConfig: opts.consumerConfig });
}
