import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { tensorflow } from '../proto.js';
import type { EmbeddingHashTable } from '../hashtable/embedding-hash-table.js';
import { outputDim } from '../model/model-spec.js';
import type { SavedModelSignature } from '../export/export-context.js';
import type { ExportManifest } from '../export/export-manifest.js';
import type { SignatureModel } from '../export/signature-model.js';
import { warmupInputName } from '../export/warmup.js';
import { ServingError } from './errors.js';
import { InputParser, type ParsedRows } from './parse-inputs.js';
import { lookupAndPool } from './pooling.js';
import { runPredict, type PredictOptions } from './predict-handler.js';
import type { RemoteTables } from './remote-tables.js';

type PredictRequest = tensorflow.serving.IPredictRequest;

export interface ServingLimits {
  /** Rows (records, ids) one request may carry; more is INVALID_ARGUMENT (default 8192). */
  maxBatchRows?: number;
  /** Rows computed at a time; between slices other requests run and a cancelled request stops (default 256). */
  sliceRows?: number;
}

/** Per-head outputs of a prediction: probabilities for classification heads, values for regression heads. */
export type HeadOutputs = Record<string, Float32Array>;

/**
 * A loaded export, runnable without the training code: parses serialized
 * records, looks up and pools embeddings from its serving tables, runs the
 * tfjs dense model, and answers TF-Serving Predict requests for its
 * signatures (serving_default, extra outputs, signatures with their own
 * model, `<table>/lookup`, `<table>/raw_assign`, `raw_assign`). A
 * distributed entry may look its embeddings up in parameter-server processes (`remote`).
 */
export class ExportedModel {
  readonly parser: InputParser;
  readonly inputName: string;
  private readonly sigs: Map<string, SavedModelSignature>;
  readonly tableOrder: string[];
  /** Width of each dense-model input: pooled features, then dense inputs. */
  private readonly widths: number[];
  /** Runs of the dense model so far (server-side batching makes fewer, larger runs). */
  denseRuns = 0;
  /** A distributed entry's tables, held by parameter-server processes (set by `loadExport` with `psAddrs`). */
  remote: RemoteTables | undefined;
  /** Signatures computed by their own tfjs model (the manifest's signatureModels), by name. */
  readonly signatureModels = new Map<string, SignatureModel>();

  constructor(
    readonly dir: string,
    readonly manifest: ExportManifest,
    signatures: SavedModelSignature[],
    readonly tables: ReadonlyMap<string, EmbeddingHashTable>,
    readonly dense: LayersModel | undefined,
    readonly limits: ServingLimits = {},
    /** The served version: the version directory's name (default the manifest's version). */
    readonly version: string = manifest.version,
  ) {
    this.sigs = new Map(signatures.map((s) => [s.name, s]));
    this.parser = new InputParser(manifest.variant, manifest.features, manifest.denseInputs, manifest.denseGroups);
    this.inputName = warmupInputName(manifest.variant);
    this.tableOrder = [...tables.keys()].sort();
    this.widths = [...manifest.features.map(outputDim), ...manifest.denseInputs.map((d) => d.width)];
  }

  get signatures(): SavedModelSignature[] {
    return [...this.sigs.values()];
  }

  get maxRows(): number {
    return this.limits.maxBatchRows ?? 8192;
  }
  get sliceRows(): number {
    return Math.max(1, this.limits.sliceRows ?? 256);
  }

  table(name: string): EmbeddingHashTable {
    const t = this.tables.get(name);
    if (!t) throw new ServingError('FAILED_PRECONDITION', `export ${this.dir} has no table "${name}" loaded`);
    return t;
  }

  /** Pooled embeddings then dense inputs, in the order the dense model takes them (embeddings already fetched, or from the local tables). */
  modelInputs(parsed: ParsedRows): Float32Array[] {
    const pooled = this.manifest.features.map((f, i) => {
      const fetched = parsed.embeddings?.[i];
      const source = fetched ? { dim: f.dim, lookupOnly: () => fetched } : this.table(f.table);
      return lookupAndPool(source, f, parsed.sparse[i]!.fids, parsed.sparse[i]!.rowSplits);
    });
    return [...pooled, ...parsed.dense];
  }

  /** Parsed rows ready for `predictParsed`: on a distributed entry, with their embeddings fetched from the parameter servers. */
  async fetchRows(parsed: ParsedRows): Promise<ParsedRows> {
    return this.remote && !parsed.embeddings ? this.remote.fetch(this.manifest.features, parsed) : parsed;
  }

  /** Runs the dense model on parsed rows; classification heads go through a sigmoid. */
  predictParsed(parsed: ParsedRows, heads?: readonly string[]): HeadOutputs {
    if (!this.dense) throw new ServingError('FAILED_PRECONDITION', `export ${this.dir} (${this.manifest.graph}) has no dense model`);
    const rows = parsed.rows;
    const inputs = this.modelInputs(parsed);
    const widths = this.widths;
    const out: HeadOutputs = {};
    if (rows === 0) {
      for (const h of this.manifest.heads) if (!heads || heads.includes(h.name)) out[h.name] = new Float32Array(0);
      return out;
    }
    this.denseRuns++;
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

  /** Outputs `indices` of the dense model for parsed rows (extra-output signatures), each as values and shape `[rows, …]`. */
  denseOutputs(parsed: ParsedRows, indices: readonly number[]): { values: Float32Array; shape: number[] }[] {
    if (!this.dense) throw new ServingError('FAILED_PRECONDITION', `export ${this.dir} (${this.manifest.graph}) has no dense model`);
    const rows = parsed.rows;
    const inputs = this.modelInputs(parsed);
    this.denseRuns++;
    return tf.tidy(() => {
      const res = this.dense!.predict(inputs.map((v, i) => tf.tensor2d(v, [rows, this.widths[i]!])));
      const list = Array.isArray(res) ? res : [res];
      return indices.map((i) => {
        const t = list[i];
        if (!t) throw new ServingError('FAILED_PRECONDITION', `export ${this.dir}: the dense model has no output ${i}`);
        return { values: t.dataSync() as Float32Array, shape: t.shape };
      });
    });
  }

  /** Predictions for serialized records of the export's variant (Instances, Examples or ExampleBatches). */
  predictRecords(records: Uint8Array[], heads?: readonly string[]): HeadOutputs {
    return this.predictParsed(this.parser.parse(records), heads);
  }

  /** Embeddings of ids in one exported table (missing ids: zeros). */
  lookup(table: string, ids: Uint32Array): Float32Array {
    return this.table(table).lookupOnly(ids);
  }

  /** A signature by name (own keys only), or undefined. */
  signature(name: string): SavedModelSignature | undefined {
    return this.sigs.get(name);
  }

  /** Answers a TF-Serving PredictRequest (see `runPredict`); refusals are ServingErrors. */
  predict(req: PredictRequest, opts: PredictOptions = {}): Promise<tensorflow.serving.PredictResponse.$Properties> {
    return runPredict(this, req, opts);
  }

  dispose(): void {
    this.dense?.dispose();
    for (const m of this.signatureModels.values()) m.model.dispose();
    this.remote?.close();
  }
}

export { versionNumber } from './predict-handler.js';
