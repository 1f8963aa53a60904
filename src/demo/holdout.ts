import Long from 'long';
import type { Batch, SourceBatch } from '../batch/batch.js';
import { ConfigError } from '../errors.js';
import type { DenseInputSpec, EmbeddingFeatureSpec } from '../model/model-spec.js';
import { idl, parser } from '../proto.js';
import { concatBatches, sliceBatch } from '../streams/parse/batch-ops.js';

/**
 * Splits a stream of batches: every `1/fraction`-th batch (rounded) is held out
 * (kept, up to `maxRows` rows) instead of trained on; the others pass.
 */
export class Holdout {
  private readonly every: number;
  private index = 0;
  private readonly kept: Batch[] = [];
  keptRows = 0;
  /** Rows held out (kept or not). */
  heldOutRows = 0;

  constructor(fraction: number, private readonly maxRows: number) {
    if (!(fraction > 0 && fraction < 1)) throw new ConfigError(`holdout fraction must be in (0, 1), got ${fraction}`);
    this.every = Math.max(2, Math.round(1 / fraction));
  }

  /** The training batches of `source`; held-out ones are kept aside (acked at once). */
  async *split(source: AsyncIterable<SourceBatch>): AsyncGenerator<SourceBatch> {
    for await (const sb of source) {
      if (++this.index % this.every !== 0) {
        yield sb;
        continue;
      }
      this.heldOutRows += sb.batch.rows;
      const room = this.maxRows - this.keptRows;
      if (room > 0) {
        const b = sb.batch.rows > room ? sliceBatch(sb.batch, 0, room) : sb.batch;
        this.kept.push(b);
        this.keptRows += b.rows;
      }
      sb.ack?.();
    }
  }

  /** The kept rows as one batch (undefined when none). */
  batch(): Batch | undefined {
    return this.kept.length ? concatBatches(this.kept) : undefined;
  }
}

/**
 * Rows of a batch as serialized Instances an export of `features` and
 * `denseInputs` reads: each feature's ids as a named fid list, each dense
 * input as a named float feature, the row's first label.
 */
export function instancesOf(batch: Batch, rows: number, features: readonly EmbeddingFeatureSpec[], denseInputs: readonly DenseInputSpec[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let r = 0; r < Math.min(rows, batch.rows); r++) {
    const feature: idl.matrix.proto.IFeature[] = [];
    for (const f of features) {
      const c = batch.sparse.find((s) => s.name === f.name) ?? batch.sparse.find((s) => s.slot === f.slot);
      if (!c) continue;
      const fid: Long[] = [];
      for (let k = c.rowSplits[r]!; k < c.rowSplits[r + 1]!; k++) fid.push(Long.fromBits(c.fids[2 * k]!, c.fids[2 * k + 1]!, true));
      feature.push({ name: f.name, fid });
    }
    for (const d of denseInputs) {
      const c = batch.dense.find((x) => x.name === d.name);
      if (c) feature.push({ name: d.name, floatValue: Array.from(c.values.subarray(r * c.width, (r + 1) * c.width)) });
    }
    out.push(parser.proto.Instance.encode({ feature, label: [batch.labels[r * batch.labelWidth]!] }).finish());
  }
  return out;
}
