import * as flatbuffers from 'flatbuffers';
import { FormatError } from '../errors.js';
import { BatchHeader } from '../gen/fbs/monolith/batch/batch-header.js';
import { Column } from '../gen/fbs/monolith/batch/column.js';
import { DType } from '../gen/fbs/monolith/batch/dtype.js';
import { Span } from '../gen/fbs/monolith/batch/span.js';
import type { Batch, DenseColumn, LineIdColumn, LineIdValues, SparseColumn } from './batch.js';

/**
 * Layout of a shared batch:
 *
 *   [u32 header byte length][flatbuffers BatchHeader][pad to 8][column data, each 8-aligned]
 *
 * Offsets in the header are absolute within the buffer, so a thread that
 * receives the buffer rebuilds every column as a view without copying.
 */
const ALIGN = 8;
const align = (n: number): number => (n + ALIGN - 1) & ~(ALIGN - 1);

type AnyArray = Float32Array | Float64Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array | Uint8Array;

interface Placed { array: AnyArray; offset: number }

function dtypeOf(a: LineIdValues): DType {
  if (a instanceof Float32Array) return DType.Float32;
  if (a instanceof Float64Array) return DType.Float64;
  if (a instanceof Int32Array) return DType.Int32;
  if (a instanceof BigInt64Array) return DType.Int64;
  return DType.Fid; // BigUint64Array: uint64 as (lo, hi) words
}

/** Data start of the last batch laid out in this thread (the usual header size of the next one). */
let lastBase = 0;

/** Lays `batch` out in one SharedArrayBuffer (one copy of every column). */
export function toSharedBatch(batch: Batch): SharedArrayBuffer {
  // First pass: place every array after a header of unknown size, then build
  // the header with offsets relative to the data start and fix them up.
  const placed: Placed[] = [];
  let dataBytes = 0;
  const place = (array: AnyArray): Placed => {
    const p = { array, offset: dataBytes };
    dataBytes = align(dataBytes + array.byteLength);
    placed.push(p);
    return p;
  };
  const sparse = batch.sparse.map((c) => ({ c, values: place(c.fids), splits: place(c.rowSplits) }));
  const dense = batch.dense.map((c) => ({ c, values: place(c.values) }));
  const labels = place(batch.labels);
  const weights = batch.weights ? place(batch.weights) : undefined;
  const lineId = batch.lineId.map((c) => ({ c, values: place(c.values) }));

  // The header size depends on the offsets' values only through the fixed-width
  // ulong fields, so build once with a provisional base, measure, and rebuild.
  const build = (base: number): Uint8Array => {
    const b = new flatbuffers.Builder(1024);
    const column = (name: string, slot: number, dtype: DType, values: Placed, elems: number, splits?: Placed, width = 1): flatbuffers.Offset => {
      const nameOff = b.createString(name);
      Column.startColumn(b);
      Column.addName(b, nameOff);
      Column.addSlot(b, slot);
      Column.addDtype(b, dtype);
      Column.addValues(b, Span.createSpan(b, BigInt(base + values.offset), BigInt(elems)));
      if (splits) Column.addRowSplits(b, Span.createSpan(b, BigInt(base + splits.offset), BigInt(splits.array.length)));
      Column.addWidth(b, width);
      return Column.endColumn(b);
    };
    const sparseOffs = sparse.map(({ c, values, splits }) => column(c.name, c.slot, DType.Fid, values, c.fids.length >>> 1, splits));
    const denseOffs = dense.map(({ c, values }) => column(c.name, 0, DType.Float32, values, c.values.length, undefined, c.width));
    const labelsOff = column('labels', 0, DType.Float32, labels, batch.labels.length, undefined, batch.labelWidth);
    const weightsOff = weights ? column('weights', 0, DType.Float32, weights, weights.array.length) : 0;
    const lineIdOffs = lineId.map(({ c, values }) => column(c.name, 0, dtypeOf(c.values), values, c.values.length));
    const sparseVec = BatchHeader.createSparseVector(b, sparseOffs);
    const denseVec = BatchHeader.createDenseVector(b, denseOffs);
    const lineIdVec = BatchHeader.createLineIdVector(b, lineIdOffs);
    BatchHeader.startBatchHeader(b);
    BatchHeader.addRows(b, batch.rows);
    BatchHeader.addSparse(b, sparseVec);
    BatchHeader.addDense(b, denseVec);
    BatchHeader.addLabels(b, labelsOff);
    if (weightsOff) BatchHeader.addWeights(b, weightsOff);
    BatchHeader.addLineId(b, lineIdVec);
    b.finish(BatchHeader.endBatchHeader(b), 'MTSB');
    return b.asUint8Array();
  };
  // Consecutive batches of a stream have the same columns, hence the same header size:
  // build once at the last batch's data start, rebuild only when that guess was wrong.
  let base = lastBase;
  let header = build(base);
  if (align(4 + header.byteLength) !== base) {
    base = align(4 + header.byteLength);
    header = build(base);
    if (align(4 + header.byteLength) !== base) throw new Error('batch header size changed between passes');
  }
  lastBase = base;
  const headerLen = header.byteLength;

  const sab = new SharedArrayBuffer(base + dataBytes);
  new DataView(sab).setUint32(0, headerLen, true);
  const bytes = new Uint8Array(sab);
  bytes.set(header, 4);
  for (const p of placed) {
    bytes.set(new Uint8Array(p.array.buffer, p.array.byteOffset, p.array.byteLength), base + p.offset);
  }
  return sab;
}

function spanView<T>(buf: SharedArrayBuffer | ArrayBuffer, span: Span | null, make: (buf: ArrayBufferLike, off: number, len: number) => T, field: string): T {
  if (!span) throw new FormatError(`shared batch: column ${field} has no span`, { field });
  const off = Number(span.byteOffset());
  const len = Number(span.length());
  if (off % ALIGN !== 0 || off > buf.byteLength) throw new FormatError(`shared batch: column ${field} has a bad offset ${off}`, { field, offset: off });
  return make(buf, off, len);
}

/** Rebuilds the batch in `buf` as views (no copy). Throws FormatError on a foreign buffer. */
export function fromSharedBatch(buf: SharedArrayBuffer | ArrayBuffer): Batch {
  if (buf.byteLength < 8) throw new FormatError(`shared batch: ${buf.byteLength} bytes is too short`, { offset: 0 });
  const headerLen = new DataView(buf).getUint32(0, true);
  if (4 + headerLen > buf.byteLength) throw new FormatError(`shared batch: header length ${headerLen} exceeds the buffer`, { offset: 0 });
  const bb = new flatbuffers.ByteBuffer(new Uint8Array(buf, 4, headerLen));
  if (!BatchHeader.bufferHasIdentifier(bb)) throw new FormatError('shared batch: missing the MTSB identifier', { offset: 4 });
  const h = BatchHeader.getRootAsBatchHeader(bb);
  const rows = h.rows();
  const f32 = (b: ArrayBufferLike, o: number, n: number) => new Float32Array(b, o, n);
  const sparse: SparseColumn[] = [];
  for (let i = 0; i < h.sparseLength(); i++) {
    const c = h.sparse(i)!;
    const name = c.name() ?? '';
    sparse.push({
      name,
      slot: c.slot(),
      fids: spanView(buf, c.values(), (b, o, n) => new Uint32Array(b, o, 2 * n), name),
      rowSplits: spanView(buf, c.rowSplits(), (b, o, n) => new Int32Array(b, o, n), name),
    });
  }
  const dense: DenseColumn[] = [];
  for (let i = 0; i < h.denseLength(); i++) {
    const c = h.dense(i)!;
    const name = c.name() ?? '';
    dense.push({ name, width: c.width(), values: spanView(buf, c.values(), f32, name) });
  }
  const lc = h.labels();
  if (!lc) throw new FormatError('shared batch: no labels column', { field: 'labels' });
  const wc = h.weights();
  const lineId: LineIdColumn[] = [];
  for (let i = 0; i < h.lineIdLength(); i++) {
    const c = h.lineId(i)!;
    const name = c.name() ?? '';
    const make = (b: ArrayBufferLike, o: number, n: number): LineIdValues => {
      switch (c.dtype()) {
        case DType.Float32: return new Float32Array(b, o, n);
        case DType.Float64: return new Float64Array(b, o, n);
        case DType.Int32: return new Int32Array(b, o, n);
        case DType.Int64: return new BigInt64Array(b, o, n);
        case DType.Fid: return new BigUint64Array(b, o, n);
        default: throw new FormatError(`shared batch: line_id column ${name} has unsupported dtype ${c.dtype()}`, { field: name });
      }
    };
    lineId.push({ name, values: spanView(buf, c.values(), make, name) });
  }
  return {
    rows,
    sparse,
    dense,
    labels: spanView(buf, lc.values(), f32, 'labels'),
    labelWidth: lc.width(),
    weights: wc ? spanView(buf, wc.values(), f32, 'weights') : undefined,
    lineId,
  };
}
