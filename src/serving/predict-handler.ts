import type { tensorflow } from '../proto.js';
import type { SavedModelSignature } from '../export/export-context.js';
import { MULTI_RAW_ASSIGN_SIGNATURE } from '../export/exporters.js';
import { DEFAULT_SERVING_SIGNATURE_DEF_KEY } from '../export/parser-args.js';
import { invalidArgument, quoted, quotedSet, ServingError } from './errors.js';
import type { ExportedModel, HeadOutputs } from './exported-model.js';
import type { ParsedRows } from './parse-inputs.js';
import { runSignatureModel } from './signature-runner.js';
import { floatTensor, int64Tensor, readFloats, readInt64Words, readStrings, shapeOf } from './tensor-proto.js';

type PredictRequest = tensorflow.serving.IPredictRequest;
type TensorProto = tensorflow.TensorProto.$Properties;

/** Runs parsed rows of serving_default; a server-side batcher merges concurrent requests. */
export interface RowRunner {
  run(model: ExportedModel, parsed: ParsedRows, heads: readonly string[] | undefined, abort?: PredictOptions['abort']): Promise<HeadOutputs>;
}

export interface PredictOptions {
  /** Asked between slices of a request: a code to stop with (deadline passed, client gone), or undefined. */
  abort?: () => 'CANCELLED' | 'DEADLINE_EXCEEDED' | undefined;
  /** Float outputs in `tensor_content` instead of `float_val` (TF Serving's --enable_serialization_as_tensor_content). */
  tensorContent?: boolean;
  /** Runs serving_default rows (server-side batching); default: the model itself. */
  runner?: RowRunner;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export function checkAbort(opts: Pick<PredictOptions, 'abort'>): void {
  const why = opts.abort?.();
  if (why) throw new ServingError(why, why === 'CANCELLED' ? 'the client cancelled the request' : 'the request deadline passed before it was computed');
}

/** The signature a request names, as TF Serving answers an unknown one. */
export function signatureFor(model: ExportedModel, req: PredictRequest): SavedModelSignature {
  const name = req.modelSpec?.signatureName || DEFAULT_SERVING_SIGNATURE_DEF_KEY;
  const sig = model.signature(name);
  if (!sig) throw new ServingError('FAILED_PRECONDITION', `Serving signature key "${quoted(name)}" not found.`);
  return sig;
}

/** Request inputs against a signature, by own keys only; shapes, then the row limit. */
function checkInputs(model: ExportedModel, sig: SavedModelSignature, inputs: Record<string, TensorProto>): void {
  const given = Object.keys(inputs);
  const wanted = Object.keys(sig.inputs);
  for (const k of given) {
    if (!Object.hasOwn(sig.inputs, k)) throw invalidArgument(`input tensor alias not found in signature: ${quoted(k)}. Inputs expected to be in the set ${quotedSet(wanted)}.`);
  }
  const missing = wanted.filter((k) => !Object.hasOwn(inputs, k));
  if (missing.length) throw invalidArgument(`Request inputs do not match required inputs for signature "${sig.name}". Sent extra: {}. Missing but required: ${quotedSet(missing)}.`);
  for (const k of given) {
    const want = sig.inputs[k]!.shape;
    const got = shapeOf(inputs[k]!);
    if (want.length !== got.length || want.some((d, i) => d >= 0 && d !== got[i])) {
      throw invalidArgument(`input "${k}" of signature "${sig.name}" must have shape [${want.join(', ')}] (-1: any), got [${got.join(', ')}]`);
    }
    if (got.some((d) => d < 0)) throw invalidArgument(`input "${k}" has a negative dimension`);
    if ((got[0] ?? 1) > model.maxRows) throw invalidArgument(`input "${k}" has ${got[0]} rows; at most ${model.maxRows} per request (split the request)`);
  }
}

function outputFilter(sig: SavedModelSignature, req: PredictRequest): string[] | undefined {
  const filter = req.outputFilter?.length ? req.outputFilter : undefined;
  const seen = new Set<string>();
  for (const f of filter ?? []) {
    if (!Object.hasOwn(sig.outputs, f)) throw invalidArgument(`output tensor alias not found in signature: ${quoted(f)} Outputs expected to be in the set ${quotedSet(Object.keys(sig.outputs))}.`);
    if (seen.has(f)) throw invalidArgument(`duplicate output tensor name: ${quoted(f)} in output_filter`);
    seen.add(f);
  }
  return filter;
}

/** Predictions for serialized records, a slice at a time, yielding to the event loop between slices. */
async function predictSliced(model: ExportedModel, records: Uint8Array[], heads: readonly string[] | undefined, opts: PredictOptions): Promise<HeadOutputs> {
  const step = model.sliceRows;
  const run = async (rows: ParsedRows) => {
    const parsed = await model.fetchRows(rows);
    return opts.runner ? opts.runner.run(model, parsed, heads, opts.abort) : model.predictParsed(parsed, heads);
  };
  if (records.length <= step) return run(model.parser.parse(records));
  const out: HeadOutputs = {};
  for (let at = 0; at < records.length; at += step) {
    await yieldToEventLoop();
    checkAbort(opts);
    const part = await run(model.parser.parse(records.slice(at, at + step)));
    for (const [h, v] of Object.entries(part)) {
      (out[h] ??= new Float32Array(records.length)).set(v, at);
    }
  }
  return out;
}

/**
 * Answers a TF-Serving PredictRequest for an export's signatures
 * (serving_default, signatures with their own model, extra outputs,
 * `<table>/lookup`, `<table>/raw_assign`, `raw_assign`)
 * with TF Serving's status codes and messages. Large requests run in slices
 * that let other requests through and stop when `opts.abort` says so.
 */
export async function runPredict(model: ExportedModel, req: PredictRequest, opts: PredictOptions = {}): Promise<tensorflow.serving.PredictResponse.$Properties> {
  const sig = signatureFor(model, req);
  const inputs = (req.inputs ?? {}) as Record<string, TensorProto>;
  checkInputs(model, sig, inputs);
  const filter = outputFilter(sig, req);
  const outputs: Record<string, TensorProto> = {};
  const modelSpec = { name: req.modelSpec?.name || model.manifest.modelName, version: { value: versionNumber(model.version) }, signatureName: sig.name };
  const float = (v: Float32Array, shape: number[]) => floatTensor(v, shape, opts.tensorContent ?? false);
  if (sig.name === DEFAULT_SERVING_SIGNATURE_DEF_KEY && Object.hasOwn(sig.inputs, model.inputName)) {
    const records = readStrings(model.inputName, inputs[model.inputName]!);
    const res = await predictSliced(model, records, filter, opts);
    for (const [h, v] of Object.entries(res)) outputs[h] = float(v, [v.length]);
    return { outputs, modelSpec };
  }
  const computed = model.signatureModels.get(sig.name);
  if (computed) return { outputs: runSignatureModel(sig, computed, inputs, filter, opts.tensorContent ?? false), modelSpec };
  const extra = model.manifest.extraOutputs?.find((e) => e.signature === sig.name);
  if (extra && Object.hasOwn(inputs, model.inputName)) {
    const parsed = await model.fetchRows(model.parser.parse(readStrings(model.inputName, inputs[model.inputName]!)));
    const keys = Object.keys(extra.outputs).filter((k) => !filter || filter.includes(k));
    model.denseOutputs(parsed, keys.map((k) => extra.outputs[k]!)).forEach((o, i) => (outputs[keys[i]!] = float(o.values, o.shape)));
    return { outputs, modelSpec };
  }
  const lookup = /^(.*)\/lookup$/.exec(sig.name);
  if (lookup) {
    const ids = readInt64Words('id', inputs.id!);
    const t = model.table(lookup[1]!);
    outputs.embedding = float(t.lookupOnly(ids), [ids.length / 2, t.dim]);
    return { outputs, modelSpec };
  }
  const assign = /^(.*)\/raw_assign$/.exec(sig.name);
  if (assign) {
    const t = model.table(assign[1]!);
    const ids = readInt64Words('id', inputs.id!);
    const values = readFloats('value', inputs.value!);
    if (values.length !== (ids.length / 2) * t.dim) throw invalidArgument(`raw_assign ${t.name}: ${ids.length / 2} ids need ${(ids.length / 2) * t.dim} values, got ${values.length}`);
    t.assign(ids, values);
    outputs.size = int64Tensor([t.size], []);
    return { outputs, modelSpec };
  }
  if (sig.name === MULTI_RAW_ASSIGN_SIGNATURE) {
    outputs.size = int64Tensor([multiRawAssign(model, inputs)], []);
    return { outputs, modelSpec };
  }
  throw new ServingError('UNIMPLEMENTED', `signature "${quoted(sig.name)}" cannot be run by this server`);
}

function multiRawAssign(model: ExportedModel, inputs: Record<string, TensorProto>): number {
  const order = model.tableOrder;
  const ids = readInt64Words('id', inputs.id!);
  const splitWords = readInt64Words('id_split', inputs.id_split!);
  const splits = Array.from({ length: splitWords.length / 2 }, (_, i) => splitWords[2 * i]!);
  const flat = readFloats('flat_value', inputs.flat_value!);
  const n = ids.length / 2;
  if (splits.length !== order.length + 1 || splits[0] !== 0 || splits[splits.length - 1] !== n || splits.some((s, i) => i > 0 && s < splits[i - 1]!)) {
    throw invalidArgument(`raw_assign: id_split must rise from 0 to ${n} over ${order.length + 1} entries (tables ${order.join(', ')})`);
  }
  const need = order.reduce((a, name, k) => a + (splits[k + 1]! - splits[k]!) * model.table(name).dim, 0);
  if (flat.length !== need) throw invalidArgument(`raw_assign: flat_value needs ${need} floats, got ${flat.length}`);
  let at = 0;
  let size = 0;
  order.forEach((name, k) => {
    const t = model.table(name);
    const part = ids.subarray(2 * splits[k]!, 2 * splits[k + 1]!);
    const len = (part.length / 2) * t.dim;
    if (len) t.assign(part, flat.subarray(at, at + len));
    at += len;
    size += t.size;
  });
  return size;
}

/** Version names are timestamps or steps (the version directory's name); anything else reports 0. */
export function versionNumber(v: string): number {
  const n = Number(v.split('.')[0]);
  return Number.isSafeInteger(n) ? n : 0;
}
