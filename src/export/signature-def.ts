import $protobuf from 'protobufjs/minimal.js';
import { FormatError } from '../errors.js';
import { tensorflow } from '../proto.js';
import { dtypeOfTf, TF_DATA_TYPE } from './dtypes.js';
import type { SavedModelSignature, TensorSpec } from './export-context.js';

/** TF's method name of a Predict signature. */
export const PREDICT_METHOD_NAME = 'tensorflow/serving/predict';
/** The file of an export that holds its signatures: a SavedModel proto (schema 1, one MetaGraphDef tagged `serve`). */
export const SAVED_MODEL_FILE = 'saved_model.pb';
export const SERVE_TAG = 'serve';

type TensorInfo = tensorflow.TensorInfo.$Properties;
export type SignatureDef = tensorflow.SignatureDef.$Properties;

function tensorInfo(signature: string, key: string, spec: TensorSpec): TensorInfo {
  return {
    name: `${signature}/${key}:0`,
    dtype: TF_DATA_TYPE[spec.dtype],
    tensorShape: { dim: spec.shape.map((size) => ({ size })) },
  };
}

const toLongNumber = (v: unknown): number => (typeof v === 'number' ? v : v && typeof (v as { toNumber?: unknown }).toNumber === 'function' ? (v as { toNumber(): number }).toNumber() : Number(v ?? 0));

function specOf(info: tensorflow.ITensorInfo, where: string): TensorSpec {
  const dtype = dtypeOfTf(info.dtype ?? 0);
  if (!dtype) throw new FormatError(`unsupported dtype ${info.dtype}`, { field: where });
  return { dtype, shape: (info.tensorShape?.dim ?? []).map((d) => toLongNumber(d.size)) };
}

/** A signature as a TF SignatureDef (Predict method; tensor names `<signature>/<key>:0`). */
export function toSignatureDef(sig: SavedModelSignature): SignatureDef {
  const map = (m: Record<string, TensorSpec>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, tensorInfo(sig.name, k, v)]));
  return { inputs: map(sig.inputs), outputs: map(sig.outputs), methodName: PREDICT_METHOD_NAME };
}

export function fromSignatureDef(name: string, def: tensorflow.ISignatureDef): SavedModelSignature {
  const map = (m: Record<string, tensorflow.ITensorInfo> | null | undefined, side: string) =>
    Object.fromEntries(Object.entries(m ?? {}).map(([k, v]) => [k, specOf(v, `signature ${name} ${side} ${k}`)]));
  return { name, inputs: map(def.inputs, 'input'), outputs: map(def.outputs, 'output') };
}

export function toSignatureDefMap(sigs: readonly SavedModelSignature[]): tensorflow.serving.SignatureDefMap.$Properties {
  return { signatureDef: Object.fromEntries(sigs.map((s) => [s.name, toSignatureDef(s)])) };
}

/**
 * The bytes of a SavedModel proto holding one MetaGraphDef (tags `serve`,
 * the signatures) and no graph: `saved_model_schema_version = 1`,
 * `meta_graphs = 2`. Our schemas have MetaGraphDef but not the two-field
 * SavedModel wrapper, so the wrapper is written by hand.
 */
export function encodeSavedModel(sigs: readonly SavedModelSignature[], tfVersion = 'monolith-ts'): Uint8Array {
  const meta = tensorflow.MetaGraphDef.encode({
    metaInfoDef: { tags: [SERVE_TAG], tensorflowVersion: tfVersion, metaGraphVersion: 'monolith-ts-export-1' },
    signatureDef: toSignatureDefMap(sigs).signatureDef,
  }).finish();
  const w = $protobuf.Writer.create();
  w.uint32((1 << 3) | 0).int64(1);
  w.uint32((2 << 3) | 2).bytes(meta);
  return w.finish();
}

/** The signatures of a SavedModel proto's `serve` MetaGraphDef. */
export function decodeSavedModel(bytes: Uint8Array, file?: string): SavedModelSignature[] {
  const r = $protobuf.Reader.create(bytes);
  const metas: Uint8Array[] = [];
  try {
    while (r.pos < r.len) {
      const tag = r.uint32();
      if (tag >>> 3 === 2 && (tag & 7) === 2) metas.push(r.bytes());
      else r.skipType(tag & 7);
    }
  } catch (err) {
    throw new FormatError(`not a SavedModel proto: ${(err as Error).message}`, { file }, { cause: err });
  }
  for (const [i, m] of metas.entries()) {
    let meta: tensorflow.MetaGraphDef;
    try {
      meta = tensorflow.MetaGraphDef.decode(m);
    } catch (err) {
      throw new FormatError(`meta_graphs[${i}] is not a MetaGraphDef: ${(err as Error).message}`, { file, field: `meta_graphs[${i}]` }, { cause: err });
    }
    if (!meta.metaInfoDef?.tags?.includes(SERVE_TAG)) continue;
    try {
      return Object.entries(meta.signatureDef ?? {}).map(([name, def]) => fromSignatureDef(name, def));
    } catch (err) {
      if (!(err instanceof FormatError) || err.file !== undefined) throw err;
      throw new FormatError(err.message.replace(/^field [^:]*: /, ''), { file, field: err.field }, { cause: err });
    }
  }
  throw new FormatError(`no MetaGraphDef tagged "${SERVE_TAG}"`, { file });
}
