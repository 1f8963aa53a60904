import { ModeKeys } from './mode.js';
import { NativeContext, SlotCollector } from './native-context.js';
import type { NativeTaskParams } from './params.js';

/**
 * Monolith's NativeTask: typed params plus a context. `batchSize` reads the
 * eval batch size in EVAL mode and the train one otherwise, and sets both.
 */
export abstract class NativeTask<P extends NativeTaskParams = NativeTaskParams> {
  readonly p: P;
  protected _ctx: NativeContext;
  /** The context's default factory when none was given: records the slots the model makes. */
  readonly slotCollector: SlotCollector;

  constructor(params: P, ctx?: NativeContext) {
    this.p = params;
    this.slotCollector = new SlotCollector();
    this._ctx = ctx ?? new NativeContext({ featureFactory: this.slotCollector });
  }

  get ctx(): NativeContext {
    return this._ctx;
  }

  get batchSize(): number | null {
    return this.p.mode === ModeKeys.EVAL ? this.p.eval.perReplicaBatchSize : this.p.train.perReplicaBatchSize;
  }
  set batchSize(v: number | null) {
    this.p.train.perReplicaBatchSize = v;
    this.p.eval.perReplicaBatchSize = v;
  }

  /** Monolith returns None here; tasks that export when saving must override it. */
  createServingInputReceiverFn(): unknown {
    return null;
  }
}
