import { AsyncLocalStorage } from 'node:async_hooks';
import { ConfigError } from '../errors.js';
import type { DType } from './dtypes.js';
import type { SignatureModel } from './signature-model.js';

export enum ExportMode {
  NONE = 'NONE',
  STANDALONE = 'STANDALONE',
  DISTRIBUTED = 'DISTRIBUTED',
}

/** One input or output of a signature: dtype and shape (-1 for an unknown dimension). */
export interface TensorSpec {
  dtype: DType;
  shape: number[];
}

/** A named computation a serving process offers (Monolith's SavedModelSignature). */
export interface SavedModelSignature {
  name: string;
  inputs: Record<string, TensorSpec>;
  outputs: Record<string, TensorSpec>;
}

/** The graph a signature belongs to: `entry`, `ps_<i>`, `dense_<i>` (standalone exports use `entry`). */
export type GraphName = string;
export const ENTRY_GRAPH: GraphName = 'entry';

/**
 * What an export collects while the model describes itself: the signatures of
 * each graph and the sub-graphs (parameter-server and dense sub-models) of a
 * distributed export. Monolith keys by tf.Graph; here graphs are names.
 */
export class ExportContext {
  private readonly sigs = new Map<GraphName, Map<string, SavedModelSignature>>();
  private readonly models = new Map<GraphName, Map<string, SignatureModel>>();
  /** Names of the parameter-server sub-graphs (`ps_<i>`), in registration order. */
  readonly subGraphs = new Set<GraphName>();
  /** Names of the dense sub-graphs (`dense_<i>`). */
  readonly denseSubGraphs = new Set<GraphName>();

  constructor(readonly withRemoteGpu = false) {}

  private of(graph: GraphName): Map<string, SavedModelSignature> {
    let m = this.sigs.get(graph);
    if (!m) this.sigs.set(graph, (m = new Map()));
    return m;
  }

  /** Registers (or replaces, dropping its model) a signature of `graph`. */
  addSignature(graph: GraphName, name: string, inputs: Record<string, TensorSpec>, outputs: Record<string, TensorSpec>): void {
    this.models.get(graph)?.delete(name);
    this.of(graph).set(name, { name, inputs: { ...inputs }, outputs: { ...outputs } });
  }

  /** Adds inputs and outputs to a signature, creating it empty first when it does not exist. */
  mergeSignature(graph: GraphName, name: string, inputs: Record<string, TensorSpec> = {}, outputs: Record<string, TensorSpec> = {}): void {
    const m = this.of(graph);
    const s = m.get(name) ?? { name, inputs: {}, outputs: {} };
    Object.assign(s.inputs, inputs);
    Object.assign(s.outputs, outputs);
    m.set(name, s);
  }

  /**
   * Registers signature `name` of `graph` computed by a tfjs model: the
   * signature's inputs and outputs are the model's (keys `inputs` / `outputs`,
   * in the model's order); the export saves the model and serving runs it.
   */
  addSignatureModel(graph: GraphName, name: string, m: SignatureModel, inputs: Record<string, TensorSpec>, outputs: Record<string, TensorSpec>): void {
    this.addSignature(graph, name, inputs, outputs);
    let g = this.models.get(graph);
    if (!g) this.models.set(graph, (g = new Map()));
    g.set(name, m);
  }

  /** The signature models of a graph. */
  signatureModels(graph: GraphName): Map<string, SignatureModel> {
    return new Map(this.models.get(graph) ?? []);
  }

  signatures(graph: GraphName): SavedModelSignature[] {
    return [...(this.sigs.get(graph)?.values() ?? [])];
  }

  signature(graph: GraphName, name: string): SavedModelSignature | undefined {
    return this.sigs.get(graph)?.get(name);
  }

  get graphs(): GraphName[] {
    return [...this.sigs.keys()];
  }

  get subGraphNum(): number {
    return this.subGraphs.size;
  }
}

interface ExportState {
  mode: ExportMode;
  ctx?: ExportContext;
  dryRun?: boolean;
}

// Per async call chain, so two exports running concurrently in one process never see each other's state.
const storage = new AsyncLocalStorage<ExportState>();

const current = (): ExportState | undefined => storage.getStore();

export const exportMode = (): ExportMode => current()?.mode ?? ExportMode.NONE;
export const isExporting = (): boolean => exportMode() !== ExportMode.NONE;
export const isExportingStandalone = (): boolean => exportMode() === ExportMode.STANDALONE;
export const isExportingDistributed = (): boolean => exportMode() === ExportMode.DISTRIBUTED;
export const getCurrentExportCtx = (): ExportContext | undefined => current()?.ctx;
/** True while exporting or inside `runDryRun` (Monolith checks a `dry_run` attribute of the default graph). */
export const isDryRunOrExporting = (): boolean => isExporting() || !!current()?.dryRun;

/**
 * Runs `fn` in export mode with `ctx` (a new ExportContext when omitted) and
 * returns its result. Export mode is scoped to `fn`'s async call chain: it
 * ends when `fn` settles, whether it returned or threw, and other concurrent
 * work never sees it. Entering while already exporting is an error.
 */
export function enterExportMode<T>(mode: ExportMode.STANDALONE | ExportMode.DISTRIBUTED, fn: (ctx: ExportContext) => T, ctx: ExportContext = new ExportContext()): T {
  const cur = current();
  if (cur && cur.mode !== ExportMode.NONE) throw new ConfigError(`cannot enter ${mode} export mode: already exporting (${cur.mode}); nested exports are not allowed`);
  if (mode !== ExportMode.STANDALONE && mode !== ExportMode.DISTRIBUTED) throw new ConfigError(`export mode must be STANDALONE or DISTRIBUTED, got ${String(mode)}`);
  return storage.run({ mode, ctx, dryRun: cur?.dryRun }, () => fn(ctx));
}

/** Runs `fn` with the dry-run flag set (model building that must not touch real state). */
export function runDryRun<T>(fn: () => T): T {
  return storage.run({ ...(current() ?? { mode: ExportMode.NONE }), dryRun: true }, fn);
}
