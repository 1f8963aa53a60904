import { ConfigError } from '../../errors.js';
import type { RecordSlice } from '../../workers/step-pool.js';

/**
 * Collects serialized records into slices of exactly `batchSize` records,
 * unparsed, each with where it came from: RecordBatcher's twin for pipelines
 * whose workers parse (one row per record, so not for ExampleBatch).
 */
export class RecordCollector {
  private records: Uint8Array[] = [];
  private origins: string[] = [];

  constructor(readonly batchSize: number) {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError(`batchSize must be an integer >= 1, got ${batchSize}`);
  }

  get bufferedRows(): number {
    return this.records.length;
  }

  /** Adds one record; returns the slice it completed, if any. */
  add(bytes: Uint8Array, origin: { file?: string }): RecordSlice[] {
    this.records.push(bytes);
    this.origins.push(origin.file ?? '?');
    return this.records.length < this.batchSize ? [] : [this.take()];
  }

  /** The last partial slice, if any records are left. */
  flush(): RecordSlice | undefined {
    return this.records.length ? this.take() : undefined;
  }

  private take(): RecordSlice {
    const slice = { records: this.records, origins: this.origins };
    this.records = [];
    this.origins = [];
    return slice;
  }
}
