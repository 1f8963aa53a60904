import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { ConfigError } from '../errors.js';
import { FeatureSlot, type FeatureSlotConfig, type LookupBinder } from './feature-slot.js';

/** (gradient, variable) pairs as a runtime hands them to a factory; opaque to the model API. */
export type GradsAndVars = Iterable<readonly [unknown, unknown]>;

export interface FeatureFactory {
  createFeatureSlot(config: FeatureSlotConfig): FeatureSlot;
  applyGradients?(gradsAndVars: GradsAndVars, scale: number): unknown;
}

/** The fused-layout alternative to a feature factory: it serves whole layouts by name. */
export interface LayoutFactory {
  createFeatureSlot(config: FeatureSlotConfig): FeatureSlot;
  applyGradients?(gradsAndVars: GradsAndVars): unknown;
  getLayout(name: string): SymbolicTensor | SymbolicTensor[];
}

export interface AsyncFunctionOptions {
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  isAsync?: boolean | null;
  queueName?: string;
}

export interface AsyncFunctionManager {
  addAsyncFunction(target: (...args: unknown[]) => unknown, opts: Required<Pick<AsyncFunctionOptions, 'queueName'>> & AsyncFunctionOptions): unknown;
}

/**
 * The feature factory a model uses by default: it only records slots (their
 * slices become table segments) and binds lookups to the model being built.
 * Applying gradients is the runtime's job, through the hash tables.
 */
export class SlotCollector implements FeatureFactory {
  readonly slots: FeatureSlot[] = [];
  binder: LookupBinder | undefined;

  createFeatureSlot(config: FeatureSlotConfig): FeatureSlot {
    const slot = new FeatureSlot(config, () => {
      if (!this.binder) throw new ConfigError(`feature slot ${slot.name}: embeddings can only be looked up while a model is being built`);
      return this.binder;
    });
    this.slots.push(slot);
    return slot;
  }

  clear(): void {
    this.slots.length = 0;
  }
}

export interface NativeContextOptions {
  featureFactory?: FeatureFactory | null;
  asyncFunctionMgr?: AsyncFunctionManager | null;
  layoutFactory?: LayoutFactory | null;
}

/** Monolith's NativeContext: where a task gets its feature slots from. */
export class NativeContext {
  readonly featureFactory: FeatureFactory | null;
  readonly asyncFunctionMgr: AsyncFunctionManager | null;
  readonly layoutFactory: LayoutFactory | null;

  constructor(opts: NativeContextOptions = {}) {
    this.featureFactory = opts.featureFactory ?? null;
    this.asyncFunctionMgr = opts.asyncFunctionMgr ?? null;
    this.layoutFactory = opts.layoutFactory ?? null;
    if (this.featureFactory && this.layoutFactory) {
      throw new ConfigError('Cannot set feature_factory and layout_factory in the same time');
    }
  }

  /** A slot from the layout factory when there is one, else from the feature factory. */
  createFeatureSlot(config: FeatureSlotConfig): FeatureSlot {
    const f = this.layoutFactory ?? this.featureFactory;
    if (!f) throw new ConfigError('NativeContext: no feature_factory or layout_factory to create a feature slot with');
    return f.createFeatureSlot(config);
  }

  applyEmbeddingGradients(gradsAndVars: GradsAndVars, scale = 1): unknown {
    if (this.layoutFactory) {
      if (!this.layoutFactory.applyGradients) throw new ConfigError('NativeContext: the layout factory cannot apply gradients');
      return this.layoutFactory.applyGradients(gradsAndVars);
    }
    if (!this.featureFactory?.applyGradients) throw new ConfigError('NativeContext: the feature factory cannot apply gradients (the runtime applies them through the hash tables)');
    return this.featureFactory.applyGradients(gradsAndVars, scale);
  }

  addAsyncFunction(target: (...args: unknown[]) => unknown, opts: AsyncFunctionOptions = {}): unknown {
    if (!this.asyncFunctionMgr) throw new ConfigError('NativeContext: no async function manager');
    return this.asyncFunctionMgr.addAsyncFunction(target, { ...opts, queueName: opts.queueName ?? 'async_queue' });
  }
}
