import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { tensorflow } from '../proto.js';
import type { EmbeddingHashTable } from '../hashtable/embedding-hash-table.js';
import { outputDim } from '../model/model-spec.js';
import type { SavedModelSignature } from '../export/export-context.js';
import type { ExportManifest } from '../export/export-manifest.js';
import { MULTI_RAW_ASSIGN_SIGNATURE } from '../export/exporters.js';
import { DEFAULT_SERVING_SIGNATURE_DEF_KEY } from '../export/parser-args.js';
import { warmupInputName } from '../export/warmup.js';
import { invalidArgument, notFound, ServingError } from './errors.js';
import { InputParser, type ParsedRows } from './parse-inputs.js';
import { lookupAndPool } from './pooling.js';
import { floatTensor, int64Tensor, readFloats, readInt64Words, readStrings, shapeOf } from './tensor-proto.js';

type PredictRequest = tensorflow.serving.IPredictRequest;
type TensorProto = tensorflow.TensorProto.$Properties;

export interface ServingLimits {
  /** Rows (records, ids) one request may carry; more is INVALID_ARGUMENT (default 65536). */
  maxBatchRows?: number;
}

/** Per-head outputs of a prediction: probabilities for classification heads, values for regression heads. */
export type HeadOutputs = Record<string, Float32Array>;

/**
 * A loaded export, runnable without the training code: parses serialized
 * records, looks up and pools embeddings from its serving tables, runs the
 * tfjs dense model, and answers TF-Serving Predict requests for its
 * signatures (serving_default, `<table>/lookup`, `<table>/raw_assign`, `raw_assign`).
 */
export class ExportedModel {
  readonly parser: InputParser;
  readonly inputName: string;
  private readonly sigs: Map<string, SavedModelSignature>;
  private readonly tableOrder: string[];

  constructor(
    readonly dir: string,
    readonly manifest: ExportManifest,
    signatures: SavedModelSignature[],
    readonly tables: ReadonlyMap<string, EmbeddingHashTable>,
    readonly dense: LayersModel | undefined,
    readonly limits: ServingLimits = {},
  ) {
    this.sigs = new Map(signatures.map((s) => [s.name, s]));
    this.parser = new InputParser(manifest.variant, manifest.features, manifest.denseInputs);
    this.inputName = warmupInputName(manifest.variant);
    this.tableOrder = [...tables.keys()].sort();
  }

  get version(): string {
    return this.manifest.version;
  }
  get signatures(): SavedModelSignature[] {
    return [...this.sigs.values()];
  }

  private get maxRows(): number {
    return this.limits.maxBatchRows ?? 65536;
  }

  private table(name: string): EmbeddingHashTable {
    const t = this.tables.get(name);
    if (!t) throw new ServingError('FAILED_PRECONDITION', `export ${this.dir} has no table "${name}" loaded`);
    return t;
  }

  /** Pooled embeddings then dense inputs, in the order the dense model takes them. */
  modelInputs(parsed: ParsedRows): Float32Array[] {
    const pooled = this.manifest.features.map((f, i) => lookupAndPool(this.table(f.table), f, parsed.sparse[i]!.fids, parsed.sparse[i]!.rowSplits));
    return [...pooled, ...parsed.dense];
  }

  /** Runs the dense model on parsed rows; classification heads go through a sigmoid. */
  predictParsed(parsed: ParsedRows, heads?: readonly string[]): HeadOutputs {
    if (!this.dense) throw new ServingError('FAILED_PRECONDITION', `export ${this.dir} (${this.manifest.graph}) has no dense model`);
    const rows = parsed.rows;
    const inputs = this.modelInputs(parsed);
    const widths = [...this.manifest.features.map(outputDim), ...this.manifest.denseInputs.map((d) => d.width)];
    const out: HeadOutputs = {};
    if (rows === 0) {
      for (const h of this.manifest.heads) if (!heads || heads.includes(h.name)) out[h.name] = new Float32Array(0);
      return out;
    }
    tf.tidy(() => {
      const xs = inputs.map((v, i) => tf.tensor2d(v, [rows, widths[i]!]));
      const res = this.dense!.predict(xs);
      const list = Array.isArray(res) ? res : [res];
      this.manifest.heads.forEach((h, k) => {
        if (heads && !heads.includes(h.name)) return;
        const logits = tf.reshape(list[k]!, [rows]);
        out[h.name] = (h.kind === 'classification' ? tf.sigmoid(logits) : logits).dataSync() as Float32Array;
      });
    });
    return out;
  }

  /** Predictions for serialized records of the export's variant (Instances, Examples or ExampleBatches). */
  predictRecords(records: Uint8Array[], heads?: readonly string[]): HeadOutputs {
    return this.predictParsed(this.parser.parse(records), heads);
  }

  /** Embeddings of ids in one exported table (missing ids: zeros). */
  lookup(table: string, ids: Uint32Array): Float32Array {
    return this.table(table).lookupOnly(ids);
  }

  private signatureFor(req: PredictRequest): SavedModelSignature {
    const name = req.modelSpec?.signatureName || DEFAULT_SERVING_SIGNATURE_DEF_KEY;
    const sig = this.sigs.get(name);
    if (!sig) throw notFound(`signature "${name}" not found in model ${this.manifest.modelName} version ${this.version} (signatures: ${[...this.sigs.keys()].join(', ')})`);
    return sig;
  }

  private checkInputs(sig: SavedModelSignature, inputs: Record<string, TensorProto>): void {
    for (const k of Object.keys(inputs)) if (!(k in sig.inputs)) throw invalidArgument(`signature "${sig.name}" has no input "${k}" (inputs: ${Object.keys(sig.inputs).join(', ')})`);
    for (const k of Object.keys(sig.inputs)) if (!inputs[k]) throw invalidArgument(`signature "${sig.name}" needs input "${k}"`);
    for (const [k, t] of Object.entries(inputs)) {
      const want = sig.inputs[k]!.shape;
      const got = shapeOf(t);
      if (want.length !== got.length || want.some((d, i) => d >= 0 && d !== got[i])) {
        throw invalidArgument(`input "${k}" of signature "${sig.name}" must have shape [${want.join(', ')}] (-1: any), got [${got.join(', ')}]`);
      }
      if (got.some((d) => d < 0)) throw invalidArgument(`input "${k}" has a negative dimension`);
      if ((got[0] ?? 1) > this.maxRows) throw invalidArgument(`input "${k}" has ${got[0]} rows; at most ${this.maxRows} per request`);
    }
  }

  /** Answers a TF-Serving PredictRequest; refusals are ServingErrors (INVALID_ARGUMENT, NOT_FOUND). */
  predict(req: PredictRequest): tensorflow.serving.PredictResponse.$Properties {
    const sig = this.signatureFor(req);
    const inputs = (req.inputs ?? {}) as Record<string, TensorProto>;
    this.checkInputs(sig, inputs);
    const filter = req.outputFilter?.length ? req.outputFilter : undefined;
    for (const f of filter ?? []) if (!(f in sig.outputs)) throw invalidArgument(`output_filter "${f}" is not an output of signature "${sig.name}" (outputs: ${Object.keys(sig.outputs).join(', ')})`);
    const outputs: Record<string, TensorProto> = {};
    const modelSpec = { name: req.modelSpec?.name || this.manifest.modelName, version: { value: versionNumber(this.version) }, signatureName: sig.name };
    if (sig.name === DEFAULT_SERVING_SIGNATURE_DEF_KEY && this.inputName in sig.inputs) {
      const records = readStrings(this.inputName, inputs[this.inputName]!);
      const res = this.predictRecords(records, filter);
      for (const [h, v] of Object.entries(res)) outputs[h] = floatTensor(v, [v.length]);
      return { outputs, modelSpec };
    }
    const lookup = /^(.*)\/lookup$/.exec(sig.name);
    if (lookup) {
      const ids = readInt64Words('id', inputs.id!);
      const t = this.table(lookup[1]!);
      outputs.embedding = floatTensor(t.lookupOnly(ids), [ids.length / 2, t.dim]);
      return { outputs, modelSpec };
    }
    const assign = /^(.*)\/raw_assign$/.exec(sig.name);
    if (assign) {
      const t = this.table(assign[1]!);
      const ids = readInt64Words('id', inputs.id!);
      const values = readFloats('value', inputs.value!);
      if (values.length !== (ids.length / 2) * t.dim) throw invalidArgument(`raw_assign ${t.name}: ${ids.length / 2} ids need ${(ids.length / 2) * t.dim} values, got ${values.length}`);
      t.assign(ids, values);
      outputs.size = int64Tensor([t.size], []);
      return { outputs, modelSpec };
    }
    if (sig.name === MULTI_RAW_ASSIGN_SIGNATURE) {
      const ids = readInt64Words('id', inputs.id!);
      const splitWords = readInt64Words('id_split', inputs.id_split!);
      const splits = Array.from({ length: splitWords.length / 2 }, (_, i) => splitWords[2 * i]!);
      const flat = readFloats('flat_value', inputs.flat_value!);
      const n = ids.length / 2;
      if (splits.length !== this.tableOrder.length + 1 || splits[0] !== 0 || splits[splits.length - 1] !== n || splits.some((s, i) => i > 0 && s < splits[i - 1]!)) {
        throw invalidArgument(`raw_assign: id_split must rise from 0 to ${n} over ${this.tableOrder.length + 1} entries (tables ${this.tableOrder.join(', ')})`);
      }
      const need = this.tableOrder.reduce((a, name, k) => a + (splits[k + 1]! - splits[k]!) * this.table(name).dim, 0);
      if (flat.length !== need) throw invalidArgument(`raw_assign: flat_value needs ${need} floats, got ${flat.length}`);
      let at = 0;
      let size = 0;
      this.tableOrder.forEach((name, k) => {
        const t = this.table(name);
        const part = ids.subarray(2 * splits[k]!, 2 * splits[k + 1]!);
        const len = (part.length / 2) * t.dim;
        if (len) t.assign(part, flat.subarray(at, at + len));
        at += len;
        size += t.size;
      });
      outputs.size = int64Tensor([size], []);
      return { outputs, modelSpec };
    }
    throw notFound(`signature "${sig.name}" cannot be run by this server`);
  }

  dispose(): void {
    this.dense?.dispose();
  }
}

/** Version names are timestamps or steps; anything else reports 0. */
export function versionNumber(v: string): number {
  const n = Number(v.split('.')[0]);
  return Number.isSafeInteger(n) ? n : 0;
}
