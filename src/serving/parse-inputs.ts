import Long from 'long';
import { monolith, parser } from '../proto.js';
import type { DenseInputSpec, EmbeddingFeatureSpec } from '../model/model-spec.js';
import type { ExportedDenseGroup } from '../export/export-manifest.js';
import type { WarmupVariant } from '../export/parser-args.js';
import { invalidArgument } from './errors.js';

/** One request's rows in columns: per feature its fids (lo, hi words) and row splits; per dense input its values. */
export interface ParsedRows {
  rows: number;
  sparse: { fids: Uint32Array; rowSplits: Int32Array }[];
  dense: Float32Array[];
  /** Per feature, the embeddings of its fids (aligned with them), when fetched from parameter servers beforehand. */
  embeddings?: Float32Array[];
}

type LongLike = Long | number | string;

class FidColumn {
  words: number[] = [];
  splits: number[] = [0];
  push(v: LongLike): void {
    const l = Long.isLong(v) ? (v as Long) : Long.fromValue(v as number);
    this.words.push(l.low >>> 0, l.high >>> 0);
  }
  endRow(): void {
    this.splits.push(this.words.length / 2);
  }
  done() {
    return { fids: Uint32Array.from(this.words), rowSplits: Int32Array.from(this.splits) };
  }
}

/**
 * Turns serialized Instances, Examples or one ExampleBatch into columns for
 * the model's features: Instance fid-v1 ids go to the features of their slot
 * (`fid >> 54`), named features (Instance.feature, Example named_feature,
 * ExampleBatch lists) to the feature of that name; dense inputs come from
 * float values of that name (missing: zeros). A dense input of `denseGroups`
 * is also assembled from its members' float values, each at its place in the
 * input (`dense_0` … `dense_12` → `dense`). Bad bytes are INVALID_ARGUMENT.
 */
export class InputParser {
  private readonly byName = new Map<string, number>();
  private readonly bySlot = new Map<number, number[]>();
  /** Where a named dense feature's values go: the dense input, the offset in its row, the width. */
  private readonly denseByName = new Map<string, { input: number; offset: number; width: number }>();

  constructor(
    readonly variant: WarmupVariant,
    readonly features: readonly EmbeddingFeatureSpec[],
    readonly denseInputs: readonly DenseInputSpec[],
    denseGroups: readonly ExportedDenseGroup[] = [],
  ) {
    features.forEach((f, i) => {
      this.byName.set(f.name, i);
      const l = this.bySlot.get(f.slot) ?? [];
      l.push(i);
      this.bySlot.set(f.slot, l);
    });
    denseInputs.forEach((d, i) => this.denseByName.set(d.name, { input: i, offset: 0, width: d.width }));
    for (const g of denseGroups) {
      const input = denseInputs.findIndex((d) => d.name === g.name);
      if (input < 0) continue;
      let offset = 0;
      for (const m of g.members) {
        if (m.name !== g.name) this.denseByName.set(m.name, { input, offset, width: m.width });
        offset += m.width;
      }
    }
  }

  parse(records: Uint8Array[]): ParsedRows {
    switch (this.variant) {
      case 'instance':
        return this.rowsOf(records, (b, i) => this.decode('Instance', i, () => parser.proto.Instance.decode(b)), (inst, cols, dense, r) => this.fillInstance(inst, cols, dense, r));
      case 'example':
        return this.rowsOf(records, (b, i) => this.decode('Example', i, () => monolith.io.proto.Example.decode(b)), (ex, cols, dense, r) => this.fillNamed(ex.namedFeature ?? [], cols, dense, r));
      case 'example_batch':
        return this.parseExampleBatch(records);
    }
  }

  private decode<T>(what: string, i: number, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw invalidArgument(`record ${i} is not a serialized ${what}: ${(err as Error).message}`, err);
    }
  }

  private rowsOf<T>(records: Uint8Array[], decode: (b: Uint8Array, i: number) => T, fill: (m: T, cols: FidColumn[], dense: Float32Array[], row: number) => void): ParsedRows {
    const rows = records.length;
    const cols = this.features.map(() => new FidColumn());
    const dense = this.denseInputs.map((d) => new Float32Array(rows * d.width));
    records.forEach((b, r) => {
      fill(decode(b, r), cols, dense, r);
      for (const c of cols) c.endRow();
    });
    return { rows, sparse: cols.map((c) => c.done()), dense };
  }

  private setDense(dense: Float32Array[], name: string, values: ArrayLike<number>, row: number): void {
    const d = this.denseByName.get(name);
    if (d === undefined) return;
    if (values.length === 0) return;
    if (values.length !== d.width) throw invalidArgument(`row ${row}: dense feature "${name}" has ${values.length} values, the model takes ${d.width}`);
    dense[d.input]!.set(values, row * this.denseInputs[d.input]!.width + d.offset);
  }

  private fillInstance(inst: parser.proto.Instance, cols: FidColumn[], dense: Float32Array[], row: number): void {
    for (const fid of inst.fid ?? []) {
      const l = Long.isLong(fid) ? (fid as Long) : Long.fromValue(fid as unknown as number);
      for (const i of this.bySlot.get(l.high >>> 22) ?? []) cols[i]!.push(l);
    }
    for (const f of inst.feature ?? []) {
      const i = this.byName.get(f.name ?? '');
      if (i !== undefined) for (const fid of f.fid ?? []) cols[i]!.push(fid as LongLike);
      if (f.floatValue?.length) this.setDense(dense, f.name ?? '', f.floatValue, row);
    }
  }

  private fillNamed(named: monolith.io.proto.INamedFeature[], cols: FidColumn[], dense: Float32Array[], row: number): void {
    for (const nf of named) this.fillFeature(nf.name ?? '', nf.feature ?? {}, cols, dense, row);
  }

  private fillFeature(name: string, f: monolith.io.proto.IFeature, cols: FidColumn[], dense: Float32Array[], row: number): void {
    const i = this.byName.get(name);
    if (i !== undefined) {
      for (const fid of f.fidV1List?.value ?? []) cols[i]!.push(fid as LongLike);
      for (const fid of f.fidV2List?.value ?? []) cols[i]!.push(fid as LongLike);
    }
    if (this.denseByName.has(name)) {
      const v = f.floatList?.value ?? (f.floatValue != null ? [f.floatValue] : f.doubleList?.value ?? []);
      this.setDense(dense, name, v, row);
    }
  }

  private parseExampleBatch(records: Uint8Array[]): ParsedRows {
    const batches = records.map((b, i) => {
      const eb = this.decode('ExampleBatch', i, () => monolith.io.proto.ExampleBatch.decode(b));
      // No honest record holds more rows than bytes: check before allocating the rows.
      if ((eb.batchSize ?? 0) < 0 || (eb.batchSize ?? 0) > b.byteLength) throw invalidArgument(`ExampleBatch ${i}: batch_size ${eb.batchSize} does not fit a ${b.byteLength}-byte record`);
      return eb;
    });
    const rows = batches.reduce((a, b) => a + (b.batchSize ?? 0), 0);
    const cols = this.features.map(() => new FidColumn());
    const dense = this.denseInputs.map((d) => new Float32Array(rows * d.width));
    let base = 0;
    batches.forEach((eb, bi) => {
      const n = eb.batchSize ?? 0;
      const lists = eb.namedFeatureList ?? [];
      for (const l of lists) {
        const shared = l.type === monolith.io.proto.FeatureListType.SHARED;
        if (!shared && (l.feature?.length ?? 0) !== n) throw invalidArgument(`ExampleBatch ${bi}: list "${l.name}" has ${l.feature?.length ?? 0} features for batch_size ${n}`);
      }
      for (let r = 0; r < n; r++) {
        for (const l of lists) {
          const f = l.type === monolith.io.proto.FeatureListType.SHARED ? l.feature![0] : l.feature![r];
          if (f) this.fillFeature(l.name ?? '', f, cols, dense, base + r);
        }
        for (const c of cols) c.endRow();
      }
      base += n;
    });
    return { rows, sparse: cols.map((c) => c.done()), dense };
  }
}
