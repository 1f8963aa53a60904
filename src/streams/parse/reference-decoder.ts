import type Long from 'long';
import { FormatError } from '../../errors.js';
import { idl, monolith, parser } from '../../proto.js';
import { implausibleBatchSize, type BatchBuilder } from './batch-builder.js';
import { floatBits, type RecordOrigin } from './fast-decoder.js';
import { LINE_ID_FIELDS, type ResolvedParseConfig } from './parse-config.js';
import { DENSE, T_LABEL_FEATURE, T_LABEL_LIST, T_LINE_ID_LIST, T_WEIGHT, targetMap } from './targets.js';

type Int64 = Long | number | null | undefined;
type LineId = idl.matrix.proto.LineId;
type EFeature = monolith.io.proto.Feature;

/** (lo, hi) words of a protobufjs 64-bit value (Long, or number when small). */
function words(v: Int64): [number, number] {
  if (v === null || v === undefined) return [0, 0];
  if (typeof v === 'number') return [v >>> 0, Math.floor(v / 4294967296) >>> 0];
  return [v.low >>> 0, v.high >>> 0];
}
const toNumber = (v: Int64): number => (typeof v === 'number' ? v : v ? v.toNumber() : 0);

/**
 * The slow, obviously-correct path: protobufjs decodes each record into
 * message objects, which are then copied into the builder. It defines what
 * the fast decoder must produce and is the baseline of bench/parse.ts.
 */
export class ReferenceDecoder {
  private readonly targets: Map<string, number>;

  constructor(private readonly config: ResolvedParseConfig) {
    this.targets = targetMap(config);
  }

  private decode<T>(fn: () => T, what: string, origin: RecordOrigin): T {
    try {
      return fn();
    } catch (err) {
      throw new FormatError(`cannot decode ${what}: ${(err as Error).message}`, { file: origin.file, offset: origin.offset, field: what }, { cause: err });
    }
  }

  decodeInstance(b: BatchBuilder, bytes: Uint8Array, origin: RecordOrigin = {}): void {
    const inst = this.decode(() => parser.proto.Instance.decode(bytes), 'Instance', origin);
    b.beginRows(1);
    const row = b.rows;
    const { config } = this;
    for (const fid of inst.fid) {
      const [lo, hi] = words(fid);
      const slot = hi >>> 22;
      const col = config.v1SlotToColumn[slot]!;
      if (col < 0) continue;
      b.sparse[col]!.push(lo, config.fidV1ToV2 ? ((slot << 16) | (hi & 0xffff)) >>> 0 : hi);
    }
    for (const f of inst.feature) {
      const t = this.targets.get(f.name ?? '');
      if (t === undefined) continue;
      if (t < DENSE) {
        const col = b.sparse[t]!;
        for (const fid of f.fid ?? []) col.push(...words(fid));
        for (const list of f.fidList ?? []) for (const fid of list.value ?? []) col.push(...words(fid));
      } else if (t < T_LABEL_LIST) {
        this.putNumbers(b.dense[t - DENSE]!, row, config.dense[t - DENSE]!.width, [...(f.floatValue ?? []), ...(f.int64Value ?? []).map(toNumber)]);
      }
    }
    this.putNumbers(b.labels, row, config.labelWidth, inst.label);
    if (config.weights && Object.hasOwn(inst, 'instanceWeight')) b.weights[row] = inst.instanceWeight;
    if (inst.lineId) this.lineId(b, row, inst.lineId as LineId);
    b.endRows(1);
  }

  decodeExample(b: BatchBuilder, bytes: Uint8Array, origin: RecordOrigin = {}): void {
    const ex = this.decode(() => monolith.io.proto.Example.decode(bytes), 'Example', origin);
    b.beginRows(1);
    const row = b.rows;
    const labelFromFeature = ex.namedFeature.some((nf) => this.targets.get(nf.name ?? '') === T_LABEL_FEATURE);
    if (!labelFromFeature) this.putNumbers(b.labels, row, this.config.labelWidth, ex.label);
    for (const nf of ex.namedFeature) {
      const name = nf.name ?? '';
      const t = this.targets.get(name);
      if (t === undefined || t === T_LINE_ID_LIST || t === T_LABEL_LIST) continue;
      if (t === T_LABEL_FEATURE) b.labels.fill(b.missingLabel, row * this.config.labelWidth, (row + 1) * this.config.labelWidth);
      if (nf.feature) this.feature(b, t, row, nf.feature as EFeature, name);
    }
    if (this.config.weights && Object.hasOwn(ex, 'instanceWeight')) b.weights[row] = ex.instanceWeight > 0 ? ex.instanceWeight : 1;
    if (ex.lineId) this.lineId(b, row, ex.lineId as LineId);
    b.endRows(1);
  }

  decodeExampleBatch(b: BatchBuilder, bytes: Uint8Array, origin: RecordOrigin = {}): void {
    const eb = this.decode(() => monolith.io.proto.ExampleBatch.decode(bytes), 'ExampleBatch', origin);
    const n = eb.batchSize >>> 0;
    const bad = implausibleBatchSize(n, bytes.byteLength);
    if (bad) throw new FormatError(bad, { ...origin, field: 'ExampleBatch.batch_size' });
    // Every kept list must fit batch_size before any row is allocated.
    for (const list of eb.namedFeatureList) {
      const name = list.name ?? '';
      if (this.targets.get(name) === undefined) continue;
      const shared = list.type === monolith.io.proto.FeatureListType.SHARED;
      const k = (list.feature ?? []).length;
      if (shared ? k < 1 && n > 0 : k !== n) {
        throw new FormatError(`list "${name}" holds ${k} features, batch_size is ${n}${shared ? ' (SHARED needs 1)' : ''}`, { ...origin, field: 'NamedFeatureList.feature' });
      }
    }
    b.beginRows(n);
    const r0 = b.rows;
    for (const list of eb.namedFeatureList) {
      const name = list.name ?? '';
      const features = list.feature ?? [];
      const t = this.targets.get(name);
      if (t === undefined) continue;
      const shared = list.type === monolith.io.proto.FeatureListType.SHARED;
      const col = t < DENSE ? b.sparse[t]! : undefined;
      if (col && col.rows !== r0) throw new FormatError(`list "${name}" appears twice`, { ...origin, field: 'NamedFeatureList' });
      for (let i = 0; i < n; i++) {
        this.feature(b, t, r0 + i, features[shared ? 0 : i] as EFeature, name);
        col?.closeRow();
      }
    }
    if (!b.endRows(n)) throw new FormatError('a sparse feature list appears twice', { ...origin, field: 'ExampleBatch.named_feature_list' });
  }

  private feature(b: BatchBuilder, t: number, row: number, f: EFeature, name: string): void {
    const kind = f.type;
    if (!kind) return;
    if (t < DENSE) {
      const col = b.sparse[t]!;
      const lists = kind === 'fidV1List' || kind === 'fidV2List' ? [f[kind]!] : kind === 'fidV2Lists' || kind === 'fidV1Lists' ? f[kind]!.list : undefined;
      if (!lists) throw new FormatError(`feature "${name}" holds ${kind}, expected a fid list`, { field: `Feature.${kind}` });
      for (const l of lists ?? []) for (const fid of l.value ?? []) col.push(...words(fid));
      return;
    }
    if (t === T_LINE_ID_LIST) {
      if (kind !== 'bytesList') throw new FormatError(`feature "${name}" holds ${kind}, expected bytes_list`, { field: `Feature.${kind}` });
      const bytes = f.bytesList!.value?.[0];
      if (bytes) this.lineId(b, row, idl.matrix.proto.LineId.decode(bytes));
      return;
    }
    let values: number[];
    switch (kind) {
      case 'floatList':
      case 'doubleList':
        values = f[kind]!.value ?? [];
        break;
      case 'int64List':
        values = (f.int64List!.value ?? []).map(toNumber);
        break;
      case 'floatValue':
      case 'doubleValue':
        values = [f[kind] ?? 0];
        break;
      case 'int64Value':
        values = [toNumber(f.int64Value)];
        break;
      default:
        throw new FormatError(`feature "${name}" holds ${kind}, expected numeric values`, { field: `Feature.${kind}` });
    }
    if (t === T_LABEL_LIST || t === T_LABEL_FEATURE) this.putNumbers(b.labels, row, this.config.labelWidth, values);
    else if (t === T_WEIGHT) {
      if (values.length > 0 && this.config.weights) b.weights[row] = values[0]! > 0 ? Math.fround(values[0]!) : 1;
    } else this.putNumbers(b.dense[t - DENSE]!, row, this.config.dense[t - DENSE]!.width, values);
  }

  private putNumbers(out: Float32Array, row: number, width: number, values: ArrayLike<number>): void {
    const n = Math.min(width, values.length);
    for (let j = 0; j < n; j++) out[row * width + j] = values[j]!;
  }

  private lineId(b: BatchBuilder, row: number, lid: LineId): void {
    b.lineId.forEach((c, col) => {
      const has = Object.hasOwn(lid, propertyOf[c.name]);
      if (!has) return;
      const v = (lid as unknown as Record<string, unknown>)[propertyOf[c.name]];
      switch (LINE_ID_FIELDS[c.name].kind) {
        case 'uint64':
        case 'int64':
          b.setLineId(col, row, ...words(v as Int64));
          break;
        case 'float':
          b.setLineId(col, row, floatBits(v as number), 0);
          break;
        case 'int32':
          b.setLineId(col, row, typeof v === 'boolean' ? Number(v) : (v as number) | 0, 0);
          break;
      }
    });
  }
}

const propertyOf: Record<keyof typeof LINE_ID_FIELDS, string> = {
  uid: 'uid',
  req_time: 'reqTime',
  item_id: 'itemId',
  chnid: 'chnid',
  sample_rate: 'sampleRate',
  is_draw: 'isDraw',
  rank: 'rank',
};
