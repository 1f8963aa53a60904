import { FormatError } from '../errors.js';

/**
 * Serialized records of one batch framed in one SharedArrayBuffer, so a
 * worker thread can parse them in place:
 *
 *   [u32 count][u32 hasOffsets][f64 source offset × count, if hasOffsets][u32 end × count][pad to 8][record bytes]
 *
 * `end[i]` is where record i ends in the bytes section (record i starts at
 * `end[i-1]`, record 0 at 0). The source offsets are where each record sits in
 * its file (for error messages); they are optional.
 */
export interface FramedRecords {
  records: Uint8Array[];
  /** Byte offset of each record in its file, when the source knows it. */
  offsets?: number[];
}

const align8 = (n: number): number => Math.ceil(n / 8) * 8;

/** Copies `records` into one new SharedArrayBuffer (one copy of the bytes, no parsing). */
export function frameRecords(records: readonly Uint8Array[], offsets?: readonly number[]): SharedArrayBuffer {
  if (offsets && offsets.length !== records.length) throw new RangeError(`frameRecords: ${offsets.length} offsets for ${records.length} records`);
  const n = records.length;
  const offBytes = offsets ? 8 * n : 0;
  const head = align8(8 + offBytes + 4 * n);
  let bytes = 0;
  for (const r of records) bytes += r.byteLength;
  const sab = new SharedArrayBuffer(head + bytes);
  const u32 = new Uint32Array(sab, 0, 2);
  u32[0] = n;
  u32[1] = offsets ? 1 : 0;
  if (offsets) new Float64Array(sab, 8, n).set(offsets);
  const ends = new Uint32Array(sab, 8 + offBytes, n);
  const out = new Uint8Array(sab, head);
  let at = 0;
  for (let i = 0; i < n; i++) {
    out.set(records[i]!, at);
    at += records[i]!.byteLength;
    ends[i] = at;
  }
  return sab;
}

/** The records in `buf` as views (no copy). Throws FormatError when the frame is inconsistent. */
export function unframeRecords(buf: SharedArrayBuffer | ArrayBuffer): FramedRecords {
  const bad = (what: string, offset: number) => new FormatError(`record frame: ${what}`, { offset });
  if (buf.byteLength < 8) throw bad(`${buf.byteLength} bytes is too short`, 0);
  const [n, hasOffsets] = new Uint32Array(buf, 0, 2) as unknown as [number, number];
  if (hasOffsets > 1) throw bad(`offsets flag ${hasOffsets} is not 0 or 1`, 4);
  const offBytes = hasOffsets ? 8 * n : 0;
  const head = align8(8 + offBytes + 4 * n);
  if (head > buf.byteLength) throw bad(`${n} records need a ${head}-byte header, the frame has ${buf.byteLength} bytes`, 0);
  const ends = new Uint32Array(buf, 8 + offBytes, n);
  const size = buf.byteLength - head;
  const records: Uint8Array[] = new Array(n);
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = ends[i]!;
    if (end < start || end > size) throw bad(`record ${i} ends at ${end}, outside ${start}..${size}`, 8 + offBytes + 4 * i);
    records[i] = new Uint8Array(buf, head + start, end - start);
    start = end;
  }
  return hasOffsets ? { records, offsets: Array.from(new Float64Array(buf, 8, n)) } : { records };
}
