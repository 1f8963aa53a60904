import Long from 'long';
import { tensorflow } from '../proto.js';
import { invalidArgument } from './errors.js';

type TensorProto = tensorflow.ITensorProto;
const DT = tensorflow.DataType;

const num = (v: unknown): number => (typeof v === 'number' ? v : Long.isLong(v) ? (v as Long).toNumber() : Number(v));

/** The dims of a tensor (a scalar has none). */
export function shapeOf(t: TensorProto): number[] {
  return (t.tensorShape?.dim ?? []).map((d) => num(d.size));
}

const elements = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function checkCount(name: string, t: TensorProto, n: number): void {
  const want = elements(shapeOf(t));
  if (want !== n) throw invalidArgument(`input "${name}": shape [${shapeOf(t).join(', ')}] needs ${want} values, got ${n}`);
}

function dtypeName(dt: number | null | undefined): string {
  return DT[dt ?? 0] ?? String(dt);
}

/** The byte strings of a DT_STRING tensor. */
export function readStrings(name: string, t: TensorProto): Uint8Array[] {
  if (t.dtype !== DT.DT_STRING) throw invalidArgument(`input "${name}" must be DT_STRING, got ${dtypeName(t.dtype)}`);
  const v = t.stringVal ?? [];
  checkCount(name, t, v.length);
  return v;
}

/** The values of a DT_INT64 (or DT_UINT64) tensor as (lo, hi) word pairs. */
export function readInt64Words(name: string, t: TensorProto): Uint32Array {
  if (t.dtype !== DT.DT_INT64 && t.dtype !== DT.DT_UINT64) throw invalidArgument(`input "${name}" must be DT_INT64, got ${dtypeName(t.dtype)}`);
  let words: Uint32Array;
  if (t.tensorContent?.length) {
    const b = t.tensorContent;
    if (b.length % 8) throw invalidArgument(`input "${name}": tensor_content of ${b.length} bytes is not a whole number of int64`);
    words = new Uint32Array(b.length / 4);
    new Uint8Array(words.buffer).set(b);
  } else {
    const vals = (t.dtype === DT.DT_INT64 ? t.int64Val : t.uint64Val) ?? [];
    words = new Uint32Array(vals.length * 2);
    vals.forEach((v, i) => {
      const l = Long.isLong(v) ? (v as Long) : Long.fromValue(v as number);
      words[2 * i] = l.low >>> 0;
      words[2 * i + 1] = l.high >>> 0;
    });
  }
  checkCount(name, t, words.length / 2);
  return words;
}

/** The values of a DT_FLOAT tensor. */
export function readFloats(name: string, t: TensorProto): Float32Array {
  if (t.dtype !== DT.DT_FLOAT) throw invalidArgument(`input "${name}" must be DT_FLOAT, got ${dtypeName(t.dtype)}`);
  let out: Float32Array;
  if (t.tensorContent?.length) {
    const b = t.tensorContent;
    if (b.length % 4) throw invalidArgument(`input "${name}": tensor_content of ${b.length} bytes is not a whole number of floats`);
    out = new Float32Array(b.length / 4);
    new Uint8Array(out.buffer).set(b);
  } else {
    out = Float32Array.from(t.floatVal ?? []);
  }
  checkCount(name, t, out.length);
  return out;
}

/**
 * A DT_FLOAT tensor: values in `tensor_content` bytes (as TF's make_tensor_proto
 * writes numpy arrays; the default here) or in the typed `float_val` field (as
 * TF Serving answers unless --enable_serialization_as_tensor_content).
 */
export function floatTensor(values: Float32Array, shape: number[], tensorContent = true): tensorflow.TensorProto.$Properties {
  const tensorShape = { dim: shape.map((size) => ({ size })) };
  if (!tensorContent) return { dtype: DT.DT_FLOAT, tensorShape, floatVal: values as unknown as number[] };
  return { dtype: DT.DT_FLOAT, tensorShape, tensorContent: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
}

/** A DT_INT64 vector from (lo, hi) word pairs, as tensor_content bytes (little-endian, as TF writes them). */
export function int64WordsTensor(words: Uint32Array): tensorflow.TensorProto.$Properties {
  return { dtype: DT.DT_INT64, tensorShape: { dim: [{ size: words.length / 2 }] }, tensorContent: new Uint8Array(words.buffer, words.byteOffset, words.byteLength) };
}

export function int64Tensor(values: readonly (number | bigint)[], shape: number[]): tensorflow.TensorProto.$Properties {
  return { dtype: DT.DT_INT64, tensorShape: { dim: shape.map((size) => ({ size })) }, int64Val: values.map((v) => Long.fromString(BigInt.asIntN(64, BigInt(v)).toString())) };
}

/** Any numeric output tensor as numbers (float, double, int32, int64), for clients. */
export function tensorToNumbers(t: TensorProto): number[] {
  switch (t.dtype) {
    case DT.DT_FLOAT:
      return Array.from(readFloats('output', t));
    case DT.DT_INT64:
    case DT.DT_UINT64: {
      const w = readInt64Words('output', t);
      return Array.from({ length: w.length / 2 }, (_, i) => Long.fromBits(w[2 * i]!, w[2 * i + 1]!, t.dtype === DT.DT_UINT64).toNumber());
    }
    case DT.DT_DOUBLE:
      return [...(t.doubleVal ?? [])];
    case DT.DT_INT32:
      return [...(t.intVal ?? [])];
    default:
      throw invalidArgument(`cannot read a ${dtypeName(t.dtype)} tensor as numbers`);
  }
}
