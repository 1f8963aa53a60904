import Long from 'long';

/** bigint → Long (the 64-bit integer type of the protobuf codecs), bit-exact. */
export function toLong(v: bigint, unsigned = true): Long {
  const u = BigInt.asUintN(64, v);
  return Long.fromBits(Number(u & 0xffffffffn) | 0, Number(u >> 32n) | 0, unsigned);
}

/** Long | number → bigint, bit-exact; signedness from the Long (or `unsigned`). */
export function fromLong(v: Long | number | bigint, unsigned = true): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  const bits = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  return (v.unsigned ?? unsigned) ? bits : BigInt.asIntN(64, bits);
}
