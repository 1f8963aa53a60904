import Long from 'long';
import { tensorflow } from '../proto.js';
import type { SavedModelSignature, TensorSpec } from '../export/export-context.js';
import { TF_DATA_TYPE } from '../export/dtypes.js';
import { PREDICT_METHOD_NAME } from '../export/signature-def.js';
import { invalidArgument, quoted, quotedSet } from './errors.js';
import { readFloats, readInt64Words, shapeOf } from './tensor-proto.js';

type TensorProto = tensorflow.TensorProto.$Properties;
type Json = unknown;
const DT = tensorflow.DataType;
const isObj = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Nested JSON lists to a flat list and a shape; ragged lists are INVALID_ARGUMENT. */
function flatten(v: Json, what: string): { shape: number[]; values: Json[] } {
  const shape: number[] = [];
  for (let x = v; Array.isArray(x); x = x[0]) shape.push(x.length);
  const values: Json[] = [];
  const walk = (x: Json, depth: number) => {
    if (depth === shape.length) {
      if (Array.isArray(x)) throw invalidArgument(`${what}: nested lists must all have the same shape`);
      values.push(x);
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[depth]) throw invalidArgument(`${what}: nested lists must all have the same shape [${shape.join(', ')}]`);
    for (const y of x) walk(y, depth + 1);
  };
  walk(v, 0);
  return { shape, values };
}

function stringValue(v: Json, what: string): Uint8Array {
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (isObj(v) && Object.keys(v).length === 1 && typeof v.b64 === 'string') {
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(v.b64)) throw invalidArgument(`${what}: "b64" is not base64`);
    return Buffer.from(v.b64, 'base64');
  }
  throw invalidArgument(`${what}: a DT_STRING value is a JSON string or {"b64": "<base64>"}`);
}

function numberValue(v: Json, what: string, int: boolean): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && int && /^-?\d+$/.test(v) ? Number(v) : NaN;
  if (Number.isNaN(n) || (int && !Number.isSafeInteger(n))) throw invalidArgument(`${what}: ${quoted(JSON.stringify(v) ?? String(v))} is not ${int ? 'an integer' : 'a number'}`);
  return n;
}

/** A JSON value (TF Serving's REST encoding) as a TensorProto of the spec's dtype. */
export function jsonToTensor(v: Json, spec: TensorSpec, what: string): TensorProto {
  const { shape, values } = flatten(v, what);
  const tensorShape = { dim: shape.map((size) => ({ size })) };
  switch (spec.dtype) {
    case 'string':
      return { dtype: DT.DT_STRING, tensorShape, stringVal: values.map((x) => stringValue(x, what)) };
    case 'float32':
      return { dtype: DT.DT_FLOAT, tensorShape, floatVal: values.map((x) => numberValue(x, what, false)) };
    case 'int64':
      // 64-bit ids beyond 2^53 come as decimal strings (JSON numbers cannot hold them exactly).
      return { dtype: DT.DT_INT64, tensorShape, int64Val: values.map((x) => (typeof x === 'string' && /^-?\d{1,20}$/.test(x) ? Long.fromString(x) : Long.fromNumber(numberValue(x, what, true)))) };
    default:
      throw invalidArgument(`${what}: dtype ${spec.dtype} is not accepted over REST`);
  }
}

/** Row format (`instances`): a list of rows, each an object of inputs (or a bare value when the signature has one input). */
export function instancesToInputs(instances: Json, sig: SavedModelSignature): Record<string, TensorProto> {
  if (!Array.isArray(instances)) throw invalidArgument('"instances" must be a list');
  const names = Object.keys(sig.inputs);
  const single = names.length === 1 && !instances.some((r) => isObj(r) && !Object.hasOwn(r, 'b64'));
  const cols = new Map<string, Json[]>(names.map((n) => [n, []]));
  instances.forEach((row, i) => {
    if (single) return cols.get(names[0]!)!.push(row);
    if (!isObj(row)) throw invalidArgument(`instances[${i}] must be an object of named inputs (signature inputs ${quotedSet(names)})`);
    for (const k of Object.keys(row)) {
      if (!cols.has(k)) throw invalidArgument(`instances[${i}]: input tensor alias not found in signature: ${quoted(k)}. Inputs expected to be in the set ${quotedSet(names)}.`);
      cols.get(k)!.push(row[k]);
    }
  });
  const out: Record<string, TensorProto> = {};
  for (const [k, list] of cols) {
    if (list.length !== instances.length) throw invalidArgument(`input "${k}" is missing from some instances (all rows need every input)`);
    out[k] = jsonToTensor(list, sig.inputs[k]!, `input "${k}"`);
  }
  return out;
}

/** Columnar format (`inputs`): an object of named inputs, or a bare value when the signature has one input. */
export function columnsToInputs(inputs: Json, sig: SavedModelSignature): Record<string, TensorProto> {
  const names = Object.keys(sig.inputs);
  if (!isObj(inputs) || (names.length === 1 && Object.hasOwn(inputs, 'b64'))) {
    if (names.length !== 1) throw invalidArgument(`"inputs" must name the inputs ${quotedSet(names)}`);
    return { [names[0]!]: jsonToTensor(inputs, sig.inputs[names[0]!]!, `input "${names[0]}"`) };
  }
  const out: Record<string, TensorProto> = {};
  for (const k of Object.keys(inputs)) {
    if (!Object.hasOwn(sig.inputs, k)) throw invalidArgument(`input tensor alias not found in signature: ${quoted(k)}. Inputs expected to be in the set ${quotedSet(names)}.`);
    out[k] = jsonToTensor(inputs[k], sig.inputs[k]!, `input "${k}"`);
  }
  return out;
}

/** A numeric output tensor as nested JSON lists (a scalar as a number). */
export function tensorToJson(t: tensorflow.ITensorProto): { shape: number[]; values: (number | string)[] } {
  const shape = shapeOf(t);
  let values: (number | string)[];
  switch (t.dtype) {
    case DT.DT_FLOAT:
      values = Array.from(readFloats('output', t));
      break;
    case DT.DT_INT64: {
      const w = readInt64Words('output', t);
      values = Array.from({ length: w.length / 2 }, (_, i) => Long.fromBits(w[2 * i]!, w[2 * i + 1]!).toNumber());
      break;
    }
    default:
      throw invalidArgument(`output of dtype ${DT[t.dtype ?? 0]} cannot be written as JSON`);
  }
  return { shape, values };
}

/** Flat values to nested lists of a shape. */
export function nest(values: readonly Json[], shape: readonly number[]): Json {
  if (shape.length === 0) return values[0];
  const inner = shape.slice(1).reduce((a, b) => a * b, 1);
  return Array.from({ length: shape[0]! }, (_, i) => nest(values.slice(i * inner, (i + 1) * inner), shape.slice(1)));
}

/** A signature as TF Serving's REST metadata writes it (SignatureDef in proto JSON with proto field names). */
export function signatureDefJson(sig: SavedModelSignature): Json {
  const info = (m: Record<string, TensorSpec>) =>
    Object.fromEntries(
      Object.entries(m).map(([k, s]) => [
        k,
        { dtype: DT[TF_DATA_TYPE[s.dtype]], tensor_shape: { dim: s.shape.map((size) => ({ size: String(size), name: '' })), unknown_rank: false }, name: `${sig.name}/${k}:0` },
      ]),
    );
  return { inputs: info(sig.inputs), outputs: info(sig.outputs), method_name: PREDICT_METHOD_NAME };
}
