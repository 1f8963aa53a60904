import { FormatError } from '../../errors.js';
import { implausibleBatchSize, type BatchBuilder } from './batch-builder.js';
import type { NameTable } from './name-table.js';
import type { ResolvedParseConfig } from './parse-config.js';
import { DENSE, EXAMPLE_FEATURE_KINDS, NO_TARGET, T_LABEL_FEATURE, T_LABEL_LIST, T_LINE_ID_LIST, T_WEIGHT, targetTable } from './targets.js';
import { WT_FIXED32, WT_FIXED64, WT_LEN, WT_VARINT, WireReader, doubleAt, floatAt } from './wire-reader.js';

/** Where a record came from, for error messages. */
export interface RecordOrigin {
  file?: string;
  /** Byte offset of the record's payload in the file. */
  offset?: number;
}

/** The wire type each monolith.io.proto.Feature oneof member must have (else it is an unknown field). */
const KIND_WIRE_TYPE = [-1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 5, 1, 2, 2];
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * Decodes Instance / Example / ExampleBatch wire bytes straight into a
 * BatchBuilder's columns: no message objects, no BigInt, no strings for
 * feature names. Semantics match the reference path (protobufjs decode +
 * convert, reference-decoder.ts); the tests hold the two to the same output.
 */
export class FastDecoder {
  private readonly r = new WireReader();
  private readonly names: NameTable;
  private readonly v1: Int32Array;
  private readonly v1ToV2: boolean;
  private readonly labelWidth: number;
  private readonly keepWeights: boolean;
  private ranges = new Int32Array(256);
  // per-record label state
  private labelCount = 0;
  private labelLocked = false;

  constructor(private readonly config: ResolvedParseConfig) {
    this.names = targetTable(config);
    this.v1 = config.v1SlotToColumn;
    this.v1ToV2 = config.fidV1ToV2;
    this.labelWidth = config.labelWidth;
    this.keepWeights = config.weights;
  }

  // ---------------------------------------------------------------- Instance

  /** One parser.proto.Instance → one row. */
  decodeInstance(b: BatchBuilder, bytes: Uint8Array, origin: RecordOrigin = {}): void {
    const r = this.r;
    r.reset(bytes, origin.file, origin.offset ?? 0);
    b.beginRows(1);
    const row = b.rows;
    this.labelCount = 0;
    while (r.pos < r.end) {
      const key = r.tag('Instance');
      const fn = key >>> 3;
      const wt = key & 7;
      switch (fn) {
        case 1: // fid: repeated fixed64 (fid v1)
          if (wt === WT_LEN) {
            const e = r.lengthEnd('Instance.fid');
            if ((e - r.pos) & 7) r.fail(`packed fixed64 payload of ${e - r.pos} bytes is not a multiple of 8`, 'Instance.fid');
            this.v1Fids(b, r.pos, e);
            r.pos = e;
          } else if (wt === WT_FIXED64) {
            if (r.pos + 8 > r.end) r.fail('truncated fixed64', 'Instance.fid');
            this.v1Fids(b, r.pos, r.pos + 8);
            r.pos += 8;
          } else r.skip(wt, fn, 'Instance.fid');
          break;
        case 3: // label: repeated float
          this.labelFloats(b, row, wt, 'Instance.label');
          break;
        case 4: // instance_weight: float
          if (wt !== WT_FIXED32) r.skip(wt, fn, 'Instance.instance_weight');
          else {
            const w = r.float('Instance.instance_weight');
            if (this.keepWeights) b.weights[row] = w;
          }
          break;
        case 5: // line_id
          if (wt !== WT_LEN) r.skip(wt, fn, 'Instance.line_id');
          else this.lineId(b, row, r.lengthEnd('Instance.line_id'));
          break;
        case 9: // feature: idl.matrix.proto.Feature
          if (wt !== WT_LEN) r.skip(wt, fn, 'Instance.feature');
          else this.instanceFeature(b, row, r.lengthEnd('Instance.feature'));
          break;
        default:
          r.skip(wt, fn, 'Instance');
      }
    }
    b.endRows(1);
  }

  private v1Fids(b: BatchBuilder, start: number, end: number): void {
    const buf = this.r.buf;
    const v1 = this.v1;
    for (let p = start; p < end; p += 8) {
      const lo = (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0;
      let hi = (buf[p + 4]! | (buf[p + 5]! << 8) | (buf[p + 6]! << 16) | (buf[p + 7]! << 24)) >>> 0;
      const slot = hi >>> 22;
      const col = v1[slot]!;
      if (col < 0) continue;
      if (this.v1ToV2) hi = ((slot << 16) | (hi & 0xffff)) >>> 0;
      b.sparse[col]!.push(lo, hi);
    }
  }

  /**
   * idl.matrix.proto.Feature: name=1, fid=2, float_value=3, int64_value=4,
   * fid_list=6 (FidList{value=1}). Encoders write the name first, which allows
   * one pass; a name after the values costs a second pass. Dense values are
   * float_value then int64_value, whatever their order on the wire.
   */
  private instanceFeature(b: BatchBuilder, row: number, end: number): void {
    const r = this.r;
    const outer = r.end;
    const start = r.pos;
    r.end = end;
    let target = NO_TARGET;
    if (r.pos < end && r.buf[r.pos] === 0x0a) {
      r.pos++;
      const ne = r.lengthEnd('Feature.name');
      target = this.names.lookup(r.buf, r.pos, ne);
      r.pos = ne;
    } else {
      while (r.pos < end) {
        const key = r.tag('Feature');
        if (key === 0x0a) {
          const ne = r.lengthEnd('Feature.name');
          target = this.names.lookup(r.buf, r.pos, ne);
          r.pos = ne;
        } else r.skip(key & 7, key >>> 3, 'Feature');
      }
      r.pos = start;
    }
    if (target >= 0 && target < DENSE) {
      const col = b.sparse[target]!;
      while (r.pos < end) {
        const key = r.tag('Feature');
        const fn = key >>> 3;
        if (fn === 2) this.fids(col, key & 7, 'Feature.fid');
        else if (fn === 6 && (key & 7) === WT_LEN) this.fidList(col, r.lengthEnd('Feature.fid_list'));
        else r.skip(key & 7, fn, 'Feature');
      }
    } else if (target >= DENSE && target < T_LABEL_LIST) {
      const d = target - DENSE;
      const width = this.config.dense[d]!.width;
      const out = b.dense[d]!;
      const off = row * width;
      let n = 0;
      let int64At = -1;
      while (r.pos < end) {
        const key = r.tag('Feature');
        const fn = key >>> 3;
        if (fn === 3) n = this.floats(key & 7, out, off, width, n, 'Feature.float_value');
        else {
          if (fn === 4 && int64At < 0) int64At = r.pos - 1;
          r.skip(key & 7, fn, 'Feature');
        }
      }
      if (int64At >= 0) {
        r.pos = int64At;
        while (r.pos < end) {
          const key = r.tag('Feature');
          if (key >>> 3 === 4) n = this.int64s(key & 7, out, off, width, n, 'Feature.int64_value');
          else r.skip(key & 7, key >>> 3, 'Feature');
        }
      }
    }
    r.pos = end;
    r.end = outer;
  }

  // ----------------------------------------------------------------- Example

  /** One monolith.io.proto.Example → one row. */
  decodeExample(b: BatchBuilder, bytes: Uint8Array, origin: RecordOrigin = {}): void {
    const r = this.r;
    r.reset(bytes, origin.file, origin.offset ?? 0);
    b.beginRows(1);
    const row = b.rows;
    this.labelCount = 0;
    this.labelLocked = false;
    while (r.pos < r.end) {
      const key = r.tag('Example');
      const fn = key >>> 3;
      const wt = key & 7;
      switch (fn) {
        case 1:
          if (wt !== WT_LEN) r.skip(wt, fn, 'Example.named_feature');
          else this.namedFeature(b, row, r.lengthEnd('Example.named_feature'));
          break;
        case 100:
          if (wt !== WT_LEN) r.skip(wt, fn, 'Example.line_id');
          else this.lineId(b, row, r.lengthEnd('Example.line_id'));
          break;
        case 101:
          if (this.labelLocked) r.skip(wt, fn, 'Example.label');
          else this.labelFloats(b, row, wt, 'Example.label');
          break;
        case 102:
          if (wt !== WT_FIXED32) r.skip(wt, fn, 'Example.instance_weight');
          else {
            const w = r.float('Example.instance_weight');
            if (this.keepWeights) b.weights[row] = w > 0 ? w : 1;
          }
          break;
        default:
          r.skip(wt, fn, 'Example');
      }
    }
    b.endRows(1);
  }

  /** NamedFeature: name=1, feature=2 (either order). */
  private namedFeature(b: BatchBuilder, row: number, end: number): void {
    const r = this.r;
    const outer = r.end;
    r.end = end;
    let ns = -1;
    let ne = -1;
    let fs = -1;
    let fe = -1;
    while (r.pos < end) {
      const key = r.tag('NamedFeature');
      if (key === 0x0a) {
        ne = r.lengthEnd('NamedFeature.name');
        ns = r.pos;
        r.pos = ne;
      } else if (key === 0x12) {
        fe = r.lengthEnd('NamedFeature.feature');
        fs = r.pos;
        r.pos = fe;
      } else r.skip(key & 7, key >>> 3, 'NamedFeature');
    }
    const target = ns < 0 ? NO_TARGET : this.names.lookup(r.buf, ns, ne);
    if (target !== NO_TARGET && target !== T_LINE_ID_LIST && target !== T_LABEL_LIST) {
      if (target === T_LABEL_FEATURE) {
        b.labels.fill(b.missingLabel, row * this.labelWidth, (row + 1) * this.labelWidth);
        this.labelLocked = true;
      }
      if (fs >= 0) {
        r.pos = fs;
        r.end = fe;
        this.feature(b, target, row, fe, ns, ne);
      }
    }
    r.pos = end;
    r.end = outer;
  }

  /**
   * A monolith.io.proto.Feature (a oneof: the last member on the wire wins)
   * into `target` at `row`; the reader sits at its start with `end` as limit.
   */
  private feature(b: BatchBuilder, target: number, row: number, end: number, ns: number, ne: number): void {
    const r = this.r;
    let kind = 0;
    let ks = 0;
    let kw = 0;
    while (r.pos < end) {
      const key = r.tag('Feature');
      const fn = key >>> 3;
      if (fn >= 1 && fn <= 16 && (key & 7) === KIND_WIRE_TYPE[fn]) {
        kind = fn;
        kw = key & 7;
        ks = r.pos;
      }
      r.skip(key & 7, fn, 'Feature');
    }
    if (kind === 0) return;
    r.pos = ks;
    if (target < DENSE) {
      const col = b.sparse[target]!;
      if (kind === 1 || kind === 2) {
        this.fidList(col, r.lengthEnd('Feature.fid_list'));
      } else if (kind === 7 || kind === 16) {
        this.fidLists(col, r.lengthEnd('Feature.fid_lists'));
      } else this.wrongKind(kind, 'a fid list', ns, ne);
      return;
    }
    if (target === T_LINE_ID_LIST) {
      if (kind !== 6) this.wrongKind(kind, 'bytes_list', ns, ne);
      const le = r.lengthEnd('Feature.bytes_list');
      r.end = le;
      // BytesList{value=1}: the first value is the serialized LineId.
      while (r.pos < le) {
        const key = r.tag('BytesList');
        if (key === 0x0a) {
          const ve = r.lengthEnd('BytesList.value');
          this.lineId(b, row, ve);
          r.pos = le;
          break;
        }
        r.skip(key & 7, key >>> 3, 'BytesList');
      }
      return;
    }
    let out: Float32Array;
    let off: number;
    let width: number;
    if (target === T_LABEL_LIST || target === T_LABEL_FEATURE) {
      out = b.labels;
      width = this.labelWidth;
      off = row * width;
    } else if (target === T_WEIGHT) {
      out = f32;
      off = 0;
      width = 1;
    } else {
      const d = target - DENSE;
      out = b.dense[d]!;
      width = this.config.dense[d]!.width;
      off = row * width;
    }
    let n = 0;
    switch (kind) {
      case 12:
        n = this.int64s(kw, out, off, width, 0, 'Feature.int64_value');
        break;
      case 13:
        n = this.floats(kw, out, off, width, 0, 'Feature.float_value');
        break;
      case 14:
        n = this.doubles(kw, out, off, width, 0, 'Feature.double_value');
        break;
      case 3:
      case 4:
      case 5: {
        const le = r.lengthEnd('Feature.list');
        r.end = le;
        while (r.pos < le) {
          const key = r.tag('List');
          const fn = key >>> 3;
          if (fn !== 1) r.skip(key & 7, fn, 'List');
          else if (kind === 3) n = this.floats(key & 7, out, off, width, n, 'FloatList.value');
          else if (kind === 4) n = this.doubles(key & 7, out, off, width, n, 'DoubleList.value');
          else n = this.int64s(key & 7, out, off, width, n, 'Int64List.value');
        }
        break;
      }
      default:
        this.wrongKind(kind, 'numeric values', ns, ne);
    }
    if (target === T_WEIGHT && n > 0 && this.keepWeights) b.weights[row] = f32[0]! > 0 ? f32[0]! : 1;
  }

  private wrongKind(kind: number, expected: string, ns: number, ne: number): never {
    const name = Buffer.from(this.r.buf.buffer, this.r.buf.byteOffset + ns, ne - ns).toString('utf8');
    throw new FormatError(`feature "${name}" holds ${EXAMPLE_FEATURE_KINDS[kind]}, expected ${expected}`, {
      file: this.r.file,
      offset: this.r.base + this.r.pos,
      field: `Feature.${EXAMPLE_FEATURE_KINDS[kind]}`,
    });
  }

  // ------------------------------------------------------------ ExampleBatch

  /** One monolith.io.proto.ExampleBatch → `batch_size` rows. */
  decodeExampleBatch(b: BatchBuilder, bytes: Uint8Array, origin: RecordOrigin = {}): void {
    const r = this.r;
    r.reset(bytes, origin.file, origin.offset ?? 0);
    // batch_size (field 3) usually comes last: find it first.
    let n = -1;
    while (r.pos < r.end) {
      const key = r.tag('ExampleBatch');
      if (key === 0x18) {
        const at = r.pos;
        n = r.uint32('ExampleBatch.batch_size');
        const bad = implausibleBatchSize(n, bytes.byteLength);
        if (bad) r.fail(bad, 'ExampleBatch.batch_size', at);
      } else r.skip(key & 7, key >>> 3, 'ExampleBatch');
    }
    if (n < 0) n = 0;
    b.beginRows(n);
    const r0 = b.rows;
    r.pos = 0;
    while (r.pos < r.end) {
      const key = r.tag('ExampleBatch');
      if (key === 0x0a) this.featureList(b, r0, n, r.lengthEnd('ExampleBatch.named_feature_list'));
      else r.skip(key & 7, key >>> 3, 'ExampleBatch');
    }
    if (!b.endRows(n)) r.fail('a sparse feature list appears twice', 'ExampleBatch.named_feature_list', 0);
  }

  /** NamedFeatureList: name=1, feature=2 (repeated), type=3 (SHARED = 1). */
  private featureList(b: BatchBuilder, r0: number, n: number, end: number): void {
    const r = this.r;
    const outer = r.end;
    const listStart = r.pos;
    r.end = end;
    let ns = -1;
    let ne = -1;
    let shared = false;
    let k = 0;
    while (r.pos < end) {
      const key = r.tag('NamedFeatureList');
      if (key === 0x0a) {
        ne = r.lengthEnd('NamedFeatureList.name');
        ns = r.pos;
        r.pos = ne;
      } else if (key === 0x12) {
        const fe = r.lengthEnd('NamedFeatureList.feature');
        if (2 * k + 2 > this.ranges.length) {
          const bigger = new Int32Array(this.ranges.length * 2);
          bigger.set(this.ranges);
          this.ranges = bigger;
        }
        this.ranges[2 * k] = r.pos;
        this.ranges[2 * k + 1] = fe;
        k++;
        r.pos = fe;
      } else if (key === 0x18) shared = r.uint32('NamedFeatureList.type') === 1;
      else r.skip(key & 7, key >>> 3, 'NamedFeatureList');
    }
    const target = ns < 0 ? NO_TARGET : this.names.lookup(r.buf, ns, ne);
    if (target !== NO_TARGET) {
      const listName = () => Buffer.from(r.buf.buffer, r.buf.byteOffset + ns, ne - ns).toString('utf8');
      if (shared ? k < 1 && n > 0 : k !== n) {
        r.fail(`list "${listName()}" holds ${k} features, batch_size is ${n}${shared ? ' (SHARED needs 1)' : ''}`, 'NamedFeatureList.feature', listStart);
      }
      const col = target < DENSE ? b.sparse[target]! : undefined;
      if (col && col.rows !== r0) r.fail(`list "${listName()}" appears twice`, 'NamedFeatureList', listStart);
      const ranges = this.ranges;
      for (let i = 0; i < n; i++) {
        const j = shared ? 0 : i;
        const fs = ranges[2 * j]!;
        const fe = ranges[2 * j + 1]!;
        r.pos = fs;
        r.end = fe;
        this.feature(b, target, r0 + i, fe, ns, ne);
        if (col) col.closeRow();
      }
    }
    r.pos = end;
    r.end = outer;
  }

  // ----------------------------------------------------------------- pieces

  /** LineId fields the config keeps; everything else (known or not) is skipped. */
  private lineId(b: BatchBuilder, row: number, end: number): void {
    const r = this.r;
    const outer = r.end;
    r.end = end;
    const byNumber = b.lineIdByNumber;
    while (r.pos < end) {
      const key = r.tag('LineId');
      const fn = key >>> 3;
      const wt = key & 7;
      const col = fn < byNumber.length ? byNumber[fn]! : -1;
      if (col < 0) {
        r.skip(wt, fn, 'LineId');
        continue;
      }
      const kind = b.lineId[col]!.kind;
      if (wt !== (kind === 'uint64' ? WT_FIXED64 : kind === 'float' ? WT_FIXED32 : WT_VARINT)) r.skip(wt, fn, 'LineId');
      else if (kind === 'uint64') {
        r.fixed64('LineId');
        b.setLineId(col, row, r.lo, r.hi);
      } else if (kind === 'float') {
        b.setLineId(col, row, r.fixed32('LineId'), 0);
      } else {
        r.varint64('LineId');
        if (fn === 87) b.setLineId(col, row, r.lo | r.hi ? 1 : 0, 0); // bool
        else b.setLineId(col, row, r.lo, r.hi);
      }
    }
    r.end = outer;
  }

  /** Label floats (packed or one per tag) into the row's labels, beyond labelWidth dropped. */
  private labelFloats(b: BatchBuilder, row: number, wt: number, field: string): void {
    const L = this.labelWidth;
    this.labelCount = this.floats(wt, b.labels, row * L, L, this.labelCount, field);
  }

  /** Repeated fixed64 fids (packed or not) into `col`. */
  private fids(col: { push(lo: number, hi: number): void }, wt: number, field: string): void {
    const r = this.r;
    if (wt === WT_LEN) {
      const e = r.lengthEnd(field);
      if ((e - r.pos) & 7) r.fail(`packed fixed64 payload of ${e - r.pos} bytes is not a multiple of 8`, field);
      const buf = r.buf;
      for (let p = r.pos; p < e; p += 8) {
        col.push(
          (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0,
          (buf[p + 4]! | (buf[p + 5]! << 8) | (buf[p + 6]! << 16) | (buf[p + 7]! << 24)) >>> 0,
        );
      }
      r.pos = e;
    } else if (wt === WT_FIXED64) {
      r.fixed64(field);
      col.push(r.lo, r.hi);
    } else r.skip(wt, 0, field);
  }

  /** FidList{value=1}. */
  private fidList(col: { push(lo: number, hi: number): void }, end: number): void {
    const r = this.r;
    const outer = r.end;
    r.end = end;
    while (r.pos < end) {
      const key = r.tag('FidList');
      if (key >>> 3 === 1) this.fids(col, key & 7, 'FidList.value');
      else r.skip(key & 7, key >>> 3, 'FidList');
    }
    r.end = outer;
  }

  /** FidLists{list=1 repeated FidList}: all lists flattened into the row. */
  private fidLists(col: { push(lo: number, hi: number): void }, end: number): void {
    const r = this.r;
    const outer = r.end;
    r.end = end;
    while (r.pos < end) {
      const key = r.tag('FidLists');
      if (key === 0x0a) this.fidList(col, r.lengthEnd('FidLists.list'));
      else r.skip(key & 7, key >>> 3, 'FidLists');
    }
    r.end = outer;
  }

  /** Float values (packed or wt 5) into out[off + n ..], at most `width`; returns the new count. */
  private floats(wt: number, out: Float32Array, off: number, width: number, n: number, field: string): number {
    const r = this.r;
    if (wt === WT_FIXED32) {
      const v = r.float(field);
      if (n < width) out[off + n] = v;
      return n + 1;
    }
    if (wt !== WT_LEN) {
      r.skip(wt, 0, field);
      return n;
    }
    const e = r.lengthEnd(field);
    if ((e - r.pos) & 3) r.fail(`packed float payload of ${e - r.pos} bytes is not a multiple of 4`, field);
    const buf = r.buf;
    for (let p = r.pos; p < e; p += 4) {
      if (n < width) out[off + n] = floatAt(buf, p);
      n++;
    }
    r.pos = e;
    return n;
  }

  private doubles(wt: number, out: Float32Array, off: number, width: number, n: number, field: string): number {
    const r = this.r;
    if (wt === WT_FIXED64) {
      const v = r.double(field);
      if (n < width) out[off + n] = v;
      return n + 1;
    }
    if (wt !== WT_LEN) {
      r.skip(wt, 0, field);
      return n;
    }
    const e = r.lengthEnd(field);
    if ((e - r.pos) & 7) r.fail(`packed double payload of ${e - r.pos} bytes is not a multiple of 8`, field);
    for (let p = r.pos; p < e; p += 8) {
      if (n < width) out[off + n] = doubleAt(r.buf, p);
      n++;
    }
    r.pos = e;
    return n;
  }

  /** int64 varints (packed or not) as float32 values (signed). */
  private int64s(wt: number, out: Float32Array, off: number, width: number, n: number, field: string): number {
    const r = this.r;
    if (wt === WT_VARINT) {
      r.varint64(field);
      if (n < width) out[off + n] = (r.hi | 0) * 4294967296 + r.lo;
      return n + 1;
    }
    if (wt !== WT_LEN) {
      r.skip(wt, 0, field);
      return n;
    }
    const e = r.lengthEnd(field);
    const outer = r.end;
    r.end = e;
    while (r.pos < e) {
      r.varint64(field);
      if (n < width) out[off + n] = (r.hi | 0) * 4294967296 + r.lo;
      n++;
    }
    r.end = outer;
    return n;
  }
}

/** The bit pattern of a float32, as LineId float columns store it. */
export function floatBits(v: number): number {
  f32[0] = v;
  return u32[0]!;
}
