import { HashTableError } from './errors.js';

/**
 * A batch of 64-bit ids as interleaved little-endian uint32 words
 * (`[lo0, hi0, lo1, hi1, ...]`), the same bytes as a BigUint64Array.
 */
export type IdWords = Uint32Array;

/** Everything the batched APIs accept as ids. Plain numbers must be safe non-negative integers. */
export type IdsInput = BigUint64Array | BigInt64Array | Uint32Array | readonly (number | bigint)[];

/** The ids as interleaved (lo, hi) words without copying when the input is a 64-bit typed array. */
export function toIdWords(ids: IdsInput): IdWords {
  if (ids instanceof BigUint64Array || ids instanceof BigInt64Array) {
    return new Uint32Array(ids.buffer, ids.byteOffset, ids.length * 2);
  }
  if (ids instanceof Uint32Array) {
    if (ids.length % 2 !== 0) throw new HashTableError(`id words must come in (lo, hi) pairs; got ${ids.length} words`);
    return ids;
  }
  const out = new Uint32Array(ids.length * 2);
  for (let i = 0; i < ids.length; i++) {
    const v = ids[i]!;
    if (typeof v === 'bigint') {
      const u = BigInt.asUintN(64, v);
      out[2 * i] = Number(u & 0xffffffffn);
      out[2 * i + 1] = Number(u >> 32n);
    } else {
      if (!Number.isSafeInteger(v) || v < 0) throw new HashTableError(`id ${v} at index ${i} is not a safe non-negative integer; pass a bigint`);
      out[2 * i] = v >>> 0;
      out[2 * i + 1] = Math.floor(v / 2 ** 32);
    }
  }
  return out;
}

/** Number of ids in a word array. */
export const idCount = (w: IdWords): number => w.length >>> 1;

/** The id at `i` as a bigint (for messages and dumps, never for hot paths). */
export function idAt(w: IdWords, i: number): bigint {
  return (BigInt(w[2 * i + 1]!) << 32n) | BigInt(w[2 * i]!);
}
