import * as tf from '@tensorflow/tfjs-core';
import { MonolithError } from '../../errors.js';
import type { ExportedModel } from '../../serving/exported-model.js';
import type { SyncDense, SyncMessage, SyncRows } from './sync-message.js';

/** A sync message the served model cannot take (another model, an unknown table, another shape): logged and skipped. */
export class SyncRefusedError extends MonolithError {
  constructor(
    message: string,
    /** Where the message came from (`kafka:<topic>/<partition>@<offset>`). */
    readonly where: string,
    readonly field: string,
  ) {
    super(`${where}: ${message}`);
  }
}

export interface ApplyResult {
  /** Rows written (rows messages) or 1 for dense weights applied. */
  applied: number;
  /** Rows (or dense weights) left alone because the model already holds a newer version. */
  stale: number;
}

/**
 * Applies sync messages to one loaded export, idempotently and in version
 * order per row: a row is written only when the message's version is at least
 * the version the row holds (the export's global step for rows it loaded, or
 * the last version applied), so an older or repeated message never undoes a
 * newer one. The same for the dense weights as a whole.
 */
export class SyncApplier {
  private readonly versions = new Map<string, Map<number, Map<number, number>>>();
  private denseVersion: number;
  private readonly floor: number;

  constructor(readonly model: ExportedModel) {
    this.floor = model.manifest.globalStep ?? 0;
    this.denseVersion = this.floor;
  }

  apply(msg: SyncMessage, where: string): ApplyResult {
    const want = this.model.manifest.modelName;
    if (msg.modelName !== want) throw new SyncRefusedError(`an update of model "${msg.modelName}"; this replica serves "${want}"`, where, 'model');
    return msg.kind === 'rows' ? this.applyRows(msg, where) : this.applyDense(msg, where);
  }

  private applyRows(msg: SyncRows, where: string): ApplyResult {
    const table = this.model.tables.get(msg.table);
    if (!table) throw new SyncRefusedError(`table "${msg.table}" is not a table of the served model (${[...this.model.tables.keys()].join(', ')})`, where, 'table');
    if (table.dim !== msg.dim) throw new SyncRefusedError(`table "${msg.table}" rows have dim ${msg.dim}; the served table has dim ${table.dim}`, where, 'dim');
    let his = this.versions.get(msg.table);
    if (!his) this.versions.set(msg.table, (his = new Map()));
    const n = msg.ids.length >>> 1;
    const keep: number[] = [];
    for (let i = 0; i < n; i++) {
      const lo = msg.ids[2 * i]!;
      const hi = msg.ids[2 * i + 1]!;
      let los = his.get(hi);
      if (!los) his.set(hi, (los = new Map()));
      if (msg.version < (los.get(lo) ?? this.floor)) continue;
      los.set(lo, msg.version);
      keep.push(i);
    }
    if (keep.length === n) table.assign(msg.ids, msg.values);
    else if (keep.length) {
      const ids = new Uint32Array(keep.length * 2);
      const values = new Float32Array(keep.length * msg.dim);
      keep.forEach((i, k) => {
        ids[2 * k] = msg.ids[2 * i]!;
        ids[2 * k + 1] = msg.ids[2 * i + 1]!;
        values.set(msg.values.subarray(i * msg.dim, (i + 1) * msg.dim), k * msg.dim);
      });
      table.assign(ids, values);
    }
    return { applied: keep.length, stale: n - keep.length };
  }

  private applyDense(msg: SyncDense, where: string): ApplyResult {
    const dense = this.model.dense;
    if (!dense) throw new SyncRefusedError('dense weights for an export without a dense model', where, 'params');
    const weights = dense.trainableWeights;
    if (weights.length !== msg.params.length) throw new SyncRefusedError(`${msg.params.length} dense params; the served model has ${weights.length} trainable weights`, where, 'params');
    weights.forEach((w, i) => {
      const p = msg.params[i]!;
      if (p.shape.length !== w.shape.length || p.shape.some((d, k) => d !== w.shape[k])) throw new SyncRefusedError(`dense param ${i} (${p.name}) has shape [${p.shape}]; the served weight ${w.originalName} has [${w.shape}]`, where, p.name);
    });
    if (msg.version < this.denseVersion) return { applied: 0, stale: 1 };
    this.denseVersion = msg.version;
    tf.tidy(() => weights.forEach((w, i) => w.write(tf.tensor(msg.params[i]!.values, msg.params[i]!.shape))));
    return { applied: 1, stale: 0 };
  }
}
