import { FormatError } from '../../errors.js';

/** Protobuf wire types. Groups (3, 4) are skipped, never decoded. */
export const WT_VARINT = 0;
export const WT_FIXED64 = 1;
export const WT_LEN = 2;
export const WT_START_GROUP = 3;
export const WT_END_GROUP = 4;
export const WT_FIXED32 = 5;

// Little-endian float reads through scratch typed arrays: cheaper than a DataView per buffer.
// (Every platform Node runs on is little-endian.)
const f32 = new Float32Array(1);
const f32b = new Uint8Array(f32.buffer);
const f64 = new Float64Array(1);
const f64b = new Uint8Array(f64.buffer);

export function floatAt(b: Uint8Array, p: number): number {
  f32b[0] = b[p]!;
  f32b[1] = b[p + 1]!;
  f32b[2] = b[p + 2]!;
  f32b[3] = b[p + 3]!;
  return f32[0]!;
}

export function doubleAt(b: Uint8Array, p: number): number {
  for (let i = 0; i < 8; i++) f64b[i] = b[p + i]!;
  return f64[0]!;
}

/**
 * A cursor over protobuf wire bytes. 64-bit varints and fixed64 values land in
 * `lo` / `hi` (uint32 words) without BigInt; all reads are bounds-checked
 * against `end`, and every problem is a FormatError naming the file, the
 * absolute byte offset and the field being read.
 */
export class WireReader {
  buf: Uint8Array = new Uint8Array(0);
  pos = 0;
  end = 0;
  /** Low / high 32 bits of the last 64-bit value read (unsigned). */
  lo = 0;
  hi = 0;
  /** For error messages: the source name and the offset of `buf[0]` in it. */
  file: string | undefined;
  base = 0;

  reset(buf: Uint8Array, file?: string, base = 0): void {
    this.buf = buf;
    this.pos = 0;
    this.end = buf.length;
    this.file = file;
    this.base = base;
  }

  fail(what: string, field?: string, at = this.pos): never {
    throw new FormatError(what, { file: this.file, offset: this.base + at, field });
  }

  /** A field key: `(number << 3) | wireType`; field number 0 is an error. */
  tag(field: string): number {
    const key = this.uint32(field);
    if (key >>> 3 === 0) this.fail(`invalid field number 0 (key ${key})`, field, this.pos - 1);
    return key;
  }

  /** A varint truncated to its low 32 bits (int32 / uint32 / enum / length / key). */
  uint32(field: string): number {
    const b = this.buf;
    let p = this.pos;
    if (p >= this.end) this.fail('truncated varint', field);
    let c = b[p++]!;
    let v = c & 0x7f;
    if (c < 0x80) {
      this.pos = p;
      return v;
    }
    for (let shift = 7; shift < 35; shift += 7) {
      if (p >= this.end) this.fail('truncated varint', field);
      c = b[p++]!;
      v |= (c & 0x7f) << shift;
      if (c < 0x80) {
        this.pos = p;
        return v >>> 0;
      }
    }
    // Bytes 6..10 of a sign-extended negative int32 carry only high bits.
    for (let i = 5; i < 10; i++) {
      if (p >= this.end) this.fail('truncated varint', field);
      if (b[p++]! < 0x80) {
        this.pos = p;
        return v >>> 0;
      }
    }
    return this.fail('varint longer than 10 bytes', field, this.pos);
  }

  /** A 64-bit varint into `lo` / `hi`. */
  varint64(field: string): void {
    const b = this.buf;
    const end = this.end;
    let p = this.pos;
    let lo = 0;
    let hi = 0;
    let c = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (p >= end) this.fail('truncated varint', field);
      c = b[p++]!;
      lo |= (c & 0x7f) << shift;
      if (c < 0x80) return this.done64(p, lo, hi);
    }
    if (p >= end) this.fail('truncated varint', field);
    c = b[p++]!;
    lo |= (c & 0x7f) << 28;
    hi = (c & 0x7f) >>> 4;
    if (c < 0x80) return this.done64(p, lo, hi);
    for (let shift = 3; shift < 38; shift += 7) {
      if (p >= end) this.fail('truncated varint', field);
      c = b[p++]!;
      hi |= (c & 0x7f) << shift;
      if (c < 0x80) return this.done64(p, lo, hi);
    }
    this.fail('varint longer than 10 bytes', field, this.pos);
  }

  private done64(p: number, lo: number, hi: number): void {
    this.pos = p;
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }

  /** 8 little-endian bytes into `lo` / `hi`. */
  fixed64(field: string): void {
    const p = this.pos;
    if (p + 8 > this.end) this.fail('truncated fixed64', field);
    const b = this.buf;
    this.lo = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
    this.hi = (b[p + 4]! | (b[p + 5]! << 8) | (b[p + 6]! << 16) | (b[p + 7]! << 24)) >>> 0;
    this.pos = p + 8;
  }

  /** 4 little-endian bytes as a uint32 (a float's bit pattern). */
  fixed32(field: string): number {
    const p = this.pos;
    if (p + 4 > this.end) this.fail('truncated fixed32', field);
    this.pos = p + 4;
    const b = this.buf;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  }

  float(field: string): number {
    const p = this.pos;
    if (p + 4 > this.end) this.fail('truncated float', field);
    this.pos = p + 4;
    return floatAt(this.buf, p);
  }

  double(field: string): number {
    const p = this.pos;
    if (p + 8 > this.end) this.fail('truncated double', field);
    this.pos = p + 8;
    return doubleAt(this.buf, p);
  }

  /** Reads a length prefix and returns the end of the payload (checked against the enclosing end). */
  lengthEnd(field: string): number {
    const at = this.pos;
    const n = this.uint32(field);
    const e = this.pos + n;
    if (n > 0x7fffffff || e > this.end) this.fail(`length ${n} runs past the end of its message (${this.end - this.pos} bytes left)`, field, at);
    return e;
  }

  /** Skips one field value of wire type `wt` (key already read). */
  skip(wt: number, fieldNumber: number, field: string): void {
    switch (wt) {
      case WT_VARINT:
        this.varint64(field);
        return;
      case WT_FIXED64:
        if (this.pos + 8 > this.end) this.fail('truncated fixed64', field);
        this.pos += 8;
        return;
      case WT_LEN:
        this.pos = this.lengthEnd(field);
        return;
      case WT_FIXED32:
        if (this.pos + 4 > this.end) this.fail('truncated fixed32', field);
        this.pos += 4;
        return;
      case WT_START_GROUP:
        for (;;) {
          if (this.pos >= this.end) this.fail(`unterminated group ${fieldNumber}`, field);
          const key = this.tag(field);
          if ((key & 7) === WT_END_GROUP) {
            if (key >>> 3 !== fieldNumber) this.fail(`group ${fieldNumber} ended by end-group ${key >>> 3}`, field);
            return;
          }
          this.skip(key & 7, key >>> 3, field);
        }
      default:
        this.fail(`invalid wire type ${wt} for field ${fieldNumber}`, field, this.pos - 1);
    }
  }

  /** A wire type that does not fit a known field. */
  badWireType(wt: number, fieldNumber: number, field: string): never {
    return this.fail(`field ${fieldNumber} has wire type ${wt}, which its schema does not allow`, field);
  }
}
