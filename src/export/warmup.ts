import { access, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tensorflow } from '../proto.js';
import { readRecordBatches, type RecordLayout } from '../io/record-file.js';
import { readTFRecords, writeTFRecords } from '../io/tfrecord.js';
import { printTextFormat } from '../io/text-format.js';
import type { ByteSource } from '../io/chunked-reader.js';
import { ConfigError, FormatError } from '../errors.js';
import { log } from '../util/log.js';
import { genSerialized, metasOf, type GenContext } from './data-gen.js';
import { DEFAULT_SERVING_SIGNATURE_DEF_KEY, ParserArgs, normalizeVariant, type WarmupVariant } from './parser-args.js';

type PredictionLog = tensorflow.serving.PredictionLog.$Properties;
type PredictRequest = tensorflow.serving.PredictRequest.$Properties;
type TensorProto = tensorflow.TensorProto.$Properties;

/** TF Serving reads warmup requests from this file of an export (assets.extra/...). */
export const WARMUP_FILE = 'tf_serving_warmup_requests';
export const ASSETS_EXTRA = 'assets.extra';
/** TF Serving refuses a warmup file with more records than this. */
export const MAX_WARMUP_RECORDS = 1000;
/** Name Estimator's PredictOutput gives a single unnamed output head. */
export const SINGLE_OUTPUT_DEFAULT_NAME = 'output';

/** The request input that carries each variant's serialized records. */
export function warmupInputName(variant: WarmupVariant): string {
  return variant === 'instance' ? 'instances' : variant === 'example' ? 'examples' : 'example_batch';
}

/** A DT_STRING tensor of shape [n] holding `values` (what TF's make_tensor_proto makes of a list of bytes). */
export function stringTensor(values: Uint8Array[]): TensorProto {
  return { dtype: tensorflow.DataType.DT_STRING, tensorShape: { dim: [{ size: values.length }] }, stringVal: values };
}

/** A signature as the warmup generator needs it: its input and output names. */
export interface WarmupSignature {
  inputs: string[];
  outputs: string[];
}

function predictLog(request: PredictRequest): PredictionLog {
  return { predictLog: { request } };
}

/**
 * Random warmup requests (Monolith's `gen_prediction_log`): `floor(maxRecords / batchSize)`
 * logs whose signature names rotate; with `signatures`, their names join the rotation,
 * a signature without inputs gets an empty request, and a multi-head serving_default
 * is repeated once per head with `output_filter` set.
 */
export function* genPredictionLogs(ctx: GenContext, args: ParserArgs, signatures?: ReadonlyMap<string, WarmupSignature>): Generator<PredictionLog> {
  if (!(args.batchSize < args.maxRecords)) throw new ConfigError(`batchSize (${args.batchSize}) must be below maxRecords (${args.maxRecords})`);
  const inputName = warmupInputName(args.variantType);
  const names = [...args.signatureName];
  for (const name of signatures?.keys() ?? []) if (!names.includes(name)) names.push(name);
  const numLogs = Math.floor(args.maxRecords / args.batchSize);
  if (numLogs < names.length) throw new ConfigError(`${numLogs} warmup logs cannot cover ${names.length} signatures; raise maxRecords`);
  const metas = metasOf(args);
  for (let i = 0; i < numLogs; i++) {
    const signatureName = names[i % names.length]!;
    const request: PredictRequest = { modelSpec: { name: args.modelName, signatureName } };
    const sig = signatures?.get(signatureName);
    if (signatures && !sig) throw new ConfigError(`signature "${signatureName}" is not among the exported signatures`);
    if (!sig || sig.inputs.length) {
      if (sig && !sig.inputs.includes(inputName)) throw new ConfigError(`signature "${signatureName}" has no input "${inputName}" (inputs: ${sig.inputs.join(', ')})`);
      const rows = args.variantType === 'example_batch' ? 1 : args.batchSize;
      request.inputs = { [inputName]: stringTensor(Array.from({ length: rows }, () => genSerialized(ctx, args, metas))) };
    }
    yield predictLog(request);
    const outputs = sig?.outputs;
    if (signatureName === DEFAULT_SERVING_SIGNATURE_DEF_KEY && outputs?.length) {
      if (outputs.length > 1 || !outputs.includes(SINGLE_OUTPUT_DEFAULT_NAME)) {
        for (const head of outputs) yield predictLog({ ...request, outputFilter: [head] });
      }
    }
  }
}

export interface FileWarmupOptions extends RecordLayout {
  variantType?: WarmupVariant | 'examplebatch';
  batchSize?: number;
  maxRecords?: number;
  modelName?: string;
  signatureNames?: string[];
}

/**
 * Warmup requests from a Monolith data file or stdin (warmup_data_gen's `file` mode):
 * batches of records become DT_STRING inputs; signature names rotate, with
 * serving_default always among them. `example_batch` requires the lagrangex header.
 */
export async function* predictionLogsFromFile(src: ByteSource, opts: FileWarmupOptions = {}): AsyncGenerator<PredictionLog> {
  const variantType = normalizeVariant(opts.variantType ?? 'instance');
  if (variantType === 'example_batch' && !opts.lagrangexHeader) throw new ConfigError('example_batch data files carry a lagrangex header; pass lagrangexHeader');
  const names = [...new Set(opts.signatureNames ?? [DEFAULT_SERVING_SIGNATURE_DEF_KEY])];
  if (!names.includes(DEFAULT_SERVING_SIGNATURE_DEF_KEY)) names.push(DEFAULT_SERVING_SIGNATURE_DEF_KEY);
  const batchSize = opts.batchSize ?? 256;
  const inputName = warmupInputName(variantType);
  let i = 0;
  for await (const batch of readRecordBatches(src, { ...opts, variantType, batchSize, maxRecords: opts.maxRecords ?? MAX_WARMUP_RECORDS })) {
    yield predictLog({
      modelSpec: { name: opts.modelName ?? 'default', signatureName: names[i++ % names.length]! },
      inputs: { [inputName]: stringTensor(batch) },
    });
  }
}

function encodeLogs(logs: Iterable<PredictionLog> | AsyncIterable<PredictionLog>): AsyncIterable<Uint8Array> {
  return (async function* () {
    for await (const l of logs) yield tensorflow.serving.PredictionLog.encode(l).finish();
  })();
}

/** Writes prediction logs as a TFRecord warmup file (atomically); returns the record count. */
export async function writeWarmupFile(path: string, logs: Iterable<PredictionLog> | AsyncIterable<PredictionLog>): Promise<number> {
  return writeTFRecords(path, encodeLogs(logs));
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * Monolith's `gen_warmup_file`: writes random warmup requests for `args` to
 * `args.warmupFile` (directories created). Returns the path, the existing path if
 * the file is already there, or undefined when there is no file or no feature.
 * A dense `label` feature is dropped; the other dense features are kept.
 */
export async function genWarmupFile(ctx: GenContext, args: ParserArgs, signatures?: ReadonlyMap<string, WarmupSignature>): Promise<string | undefined> {
  const file = args.warmupFile;
  if (!file) {
    log.info('no warmup file configured; skipped');
    return undefined;
  }
  if (await exists(file)) return file;
  if (!(args.fidv1Features?.length || args.fidv2Features?.length || args.sparseFeatures?.length || args.denseFeatures?.length || args.extraFeatures?.length)) {
    log.warn('no features configured; no warmup file written');
    return undefined;
  }
  const labelAt = args.denseFeatures?.indexOf('label') ?? -1;
  const drop = <T>(xs?: T[]) => (labelAt < 0 ? xs : xs?.filter((_, i) => i !== labelAt));
  const noLabel = new ParserArgs({
    ...args,
    denseFeatures: drop(args.denseFeatures),
    denseFeatureShapes: drop(args.denseFeatureShapes),
    denseFeatureTypes: drop(args.denseFeatureTypes),
  });
  await writeWarmupFile(file, genPredictionLogs(ctx, noLabel, signatures));
  return file;
}

/**
 * Warmup requests from a folder of serialized PredictRequest files
 * (warmup_example_batch.py): model `default`, signature `serving_default`, files in
 * name order. A file that is not a PredictRequest is a FormatError naming it.
 */
export async function* predictionLogsFromRequestFolder(folder: string): AsyncGenerator<PredictionLog> {
  for (const name of (await readdir(folder)).sort()) {
    const path = join(folder, name);
    let request: tensorflow.serving.PredictRequest;
    try {
      request = tensorflow.serving.PredictRequest.decode(await readFile(path));
    } catch (err) {
      throw new FormatError(`not a serialized PredictRequest: ${(err as Error).message}`, { file: path }, { cause: err });
    }
    request.modelSpec = { ...(request.modelSpec ?? {}), name: 'default', signatureName: 'serving_default' };
    yield predictLog(request);
  }
}

/** Text of each warmup request with `string_val` contents replaced by `...` (warmup_data_decoder). */
export async function* describeWarmupFile(src: ByteSource): AsyncGenerator<string> {
  let i = 0;
  for await (const rec of readTFRecords(src)) {
    let entry: tensorflow.serving.PredictionLog;
    try {
      entry = tensorflow.serving.PredictionLog.decode(rec);
    } catch (err) {
      throw new FormatError(`record ${i} is not a PredictionLog: ${(err as Error).message}`, { file: typeof src === 'string' ? src : undefined, field: `record ${i}` }, { cause: err });
    }
    const kind = (entry.logType ?? 'none').replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    const request = entry.predictLog?.request ?? {};
    const text = printTextFormat('tensorflow.serving.PredictRequest', request).replace(/string_val:.*/g, 'string_val: ...');
    yield `request ${i + 1} (${kind}):\n${text}`;
    i++;
  }
}
