import $protobuf from 'protobufjs/minimal.js';
import Long from 'long';

const u64 = (v: number | bigint) => Long.fromString(BigInt.asUintN(64, BigInt(v)).toString(), true);
import type { Batch } from '../../../src/batch/batch.js';

/** A tiny hand encoder for wire shapes the generated codecs never write (unpacked, reordered, unknown fields). */
export class Wire {
  private readonly w = $protobuf.Writer.create();
  key(field: number, wt: number): this {
    this.w.uint32((field << 3) | wt);
    return this;
  }
  varint(field: number, v: number | bigint): this {
    this.key(field, 0);
    this.w.uint64(u64(v));
    return this;
  }
  fixed64(field: number, v: bigint): this {
    this.key(field, 1);
    const u = BigInt.asUintN(64, v);
    this.w.fixed32(Number(u & 0xffffffffn)).fixed32(Number(u >> 32n));
    return this;
  }
  fixed32(field: number, v: number): this {
    this.key(field, 5);
    this.w.fixed32(v >>> 0);
    return this;
  }
  float(field: number, v: number): this {
    this.key(field, 5);
    this.w.float(v);
    return this;
  }
  bytes(field: number, b: Uint8Array | string): this {
    this.key(field, 2);
    this.w.bytes(typeof b === 'string' ? Buffer.from(b) : b);
    return this;
  }
  msg(field: number, m: Wire): this {
    return this.bytes(field, m.finish());
  }
  packedFixed64(field: number, vs: bigint[]): this {
    const inner = Buffer.alloc(vs.length * 8);
    vs.forEach((v, i) => inner.writeBigUInt64LE(BigInt.asUintN(64, v), i * 8));
    return this.bytes(field, inner);
  }
  packedFloats(field: number, vs: number[]): this {
    const inner = Buffer.alloc(vs.length * 4);
    vs.forEach((v, i) => inner.writeFloatLE(v, i * 4));
    return this.bytes(field, inner);
  }
  packedVarints(field: number, vs: (number | bigint)[]): this {
    const inner = new Wire();
    for (const v of vs) inner.w.uint64(u64(v));
    return this.bytes(field, inner.finish());
  }
  /** One unknown field of every wire type (a group included) with field numbers from `base`. */
  unknowns(base: number): this {
    this.varint(base, -5n).fixed64(base + 1, 0xdeadbeefcafebaben).bytes(base + 2, 'junk').fixed32(base + 3, 7);
    this.key(base + 4, 3).varint(1, 3).bytes(2, 'in group').key(base + 4, 4);
    return this;
  }
  raw(b: Uint8Array): this {
    for (const x of b) this.w.uint32(x); // bytes < 128 only: used for tiny raw snippets
    return this;
  }
  finish(): Uint8Array {
    return this.w.finish();
  }
}

/** A Batch as plain data for t.deepEqual: fids as bigint strings, typed arrays as arrays. */
export function plain(b: Batch): unknown {
  return {
    rows: b.rows,
    sparse: b.sparse.map((c) => ({
      name: c.name,
      slot: c.slot,
      fids: Array.from(new BigUint64Array(c.fids.buffer, c.fids.byteOffset, c.fids.length / 2), (x) => x.toString()),
      rowSplits: Array.from(c.rowSplits),
    })),
    dense: b.dense.map((c) => ({ name: c.name, width: c.width, values: Array.from(c.values) })),
    labels: Array.from(b.labels),
    labelWidth: b.labelWidth,
    weights: b.weights ? Array.from(b.weights) : undefined,
    lineId: b.lineId.map((c) => ({ name: c.name, values: Array.from(c.values as ArrayLike<number | bigint>, (v) => String(v)) })),
  };
}

/** Fids of row `r` in sparse column `name` as bigints. */
export function rowFids(b: Batch, name: string, r: number): bigint[] {
  const c = b.sparse.find((s) => s.name === name)!;
  const out: bigint[] = [];
  for (let i = c.rowSplits[r]!; i < c.rowSplits[r + 1]!; i++) out.push((BigInt(c.fids[2 * i + 1]!) << 32n) | BigInt(c.fids[2 * i]!));
  return out;
}
