import { maskedCrc32c } from '../../src/io/crc32c.js';
import { encodeTFRecord } from '../../src/io/tfrecord.js';
import { Rng } from '../../src/util/random.js';

/** Values a length or count field is set to: the edges readers have overflowed on. */
export const HUGE = [2n ** 32n, 2n ** 32n - 1n, 2n ** 63n, 2n ** 64n - 1n, 2n ** 31n - 1n, 2n ** 27n, 2n ** 30n, 0xfefefefen];

export type Mutation = { name: string; bytes: Buffer };

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(0, xs.length - 1)]!;

function u64le(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, v));
  return b;
}

function varint(v: bigint): Buffer {
  const out: number[] = [];
  let x = BigInt.asUintN(64, v);
  do {
    let c = Number(x & 0x7fn);
    x >>= 7n;
    if (x) c |= 0x80;
    out.push(c);
  } while (x);
  return Buffer.from(out);
}

/** One seeded mutation of `input`: bit flips, a truncation, a 64-bit or varint length/count set huge, a byte run dropped or repeated. */
export function mutate(rng: Rng, input: Uint8Array): Mutation {
  const src = Buffer.from(input);
  const at = src.length ? rng.int(0, src.length - 1) : 0;
  switch (rng.int(0, 6)) {
    case 0: {
      const b = Buffer.from(src);
      const flips = rng.int(1, 3);
      for (let i = 0; i < flips && b.length; i++) b[rng.int(0, b.length - 1)]! ^= 1 << rng.int(0, 7);
      return { name: `flip ${flips} bit(s)`, bytes: b };
    }
    case 1:
      return { name: `truncate to ${at}`, bytes: src.subarray(0, at) };
    case 2: {
      const v = pick(rng, HUGE);
      const b = Buffer.from(src);
      u64le(v).copy(b, at);
      return { name: `u64 ${v} at ${at}`, bytes: b };
    }
    case 3: {
      const v = pick(rng, HUGE);
      const b = Buffer.from(src);
      const le = Buffer.alloc(4);
      le.writeUInt32LE(Number(BigInt.asUintN(32, v)));
      le.copy(b, at);
      return { name: `u32 ${BigInt.asUintN(32, v)} at ${at}`, bytes: b };
    }
    case 4: {
      const v = pick(rng, HUGE);
      return { name: `varint ${v} at ${at}`, bytes: Buffer.concat([src.subarray(0, at), varint(v), src.subarray(at + 1)]) };
    }
    case 5: {
      const n = rng.int(1, 16);
      return { name: `drop ${n} at ${at}`, bytes: Buffer.concat([src.subarray(0, at), src.subarray(at + n)]) };
    }
    default: {
      const n = rng.int(1, 16);
      return { name: `repeat ${n} at ${at}`, bytes: Buffer.concat([src.subarray(0, at + n), src.subarray(at)]) };
    }
  }
}

/** Text mutations: a digit run set huge or negative, a key renamed, a line dropped, a cut. */
export function mutateText(rng: Rng, input: string): Mutation {
  const digits = [...input.matchAll(/\d+/g)];
  switch (rng.int(0, 4)) {
    case 0:
      if (digits.length) {
        const d = pick(rng, digits);
        const v = pick(rng, ['4294967296', '9223372036854775808', '18446744073709551615', '-1', '1e309', '0x7fffffff']);
        return { name: `number → ${v}`, bytes: Buffer.from(input.slice(0, d.index) + v + input.slice(d.index! + d[0].length)) };
      }
      return { name: 'identity', bytes: Buffer.from(input) };
    case 1: {
      const lines = input.split('\n');
      lines.splice(rng.int(0, lines.length - 1), 1);
      return { name: 'drop a line', bytes: Buffer.from(lines.join('\n')) };
    }
    case 2: {
      const words = [...input.matchAll(/[A-Za-z_]{3,}/g)];
      if (!words.length) return mutate(rng, Buffer.from(input));
      const w = pick(rng, words);
      const i = w.index! + rng.int(0, w[0].length - 1);
      return { name: `rename key at ${i}`, bytes: Buffer.from(input.slice(0, i) + 'q' + input.slice(i + 1)) };
    }
    case 3:
      return { name: 'cut', bytes: Buffer.from(input.slice(0, rng.int(0, input.length))) };
    default:
      return mutate(rng, Buffer.from(input));
  }
}

/**
 * Mutates one record of a TFRecord stream and frames it again with valid
 * checksums, so the damage reaches the payload's own decoder; or sets a
 * record's length field huge with a valid length checksum.
 */
export function mutateInsideTFRecords(rng: Rng, records: readonly Uint8Array[]): Mutation {
  const i = rng.int(0, records.length - 1);
  if (rng.int(0, 3) === 0) {
    const v = pick(rng, HUGE);
    const framed = records.map((r) => encodeTFRecord(r));
    const h = framed[i]!;
    h.writeBigUInt64LE(BigInt.asUintN(64, v), 0);
    h.writeUInt32LE(maskedHeaderCrc(h), 8);
    return { name: `record ${i} length ${v} (valid header crc)`, bytes: Buffer.concat(framed) };
  }
  const m = mutate(rng, records[i]!);
  return { name: `record ${i}: ${m.name}`, bytes: Buffer.concat(records.map((r, k) => encodeTFRecord(k === i ? m.bytes : r))) };
}

const maskedHeaderCrc = (h: Buffer): number => maskedCrc32c(h.subarray(0, 8));
