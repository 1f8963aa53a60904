import { catchError, finalize, mergeMap, Observable, tap, throwError, type OperatorFunction } from 'rxjs';
import { ConfigError } from '../errors.js';
import { PipelineError } from './pipeline-error.js';
import { pullSource, RoomSignal, type SourceLike } from './pull-source.js';
import type { StepResult } from './step-result.js';

export type NodeKind = 'source' | 'parse' | 'batch' | 'transform' | 'step' | 'hook' | 'sink' | 'checkpoint';

export interface GraphNode {
  name: string;
  kind: NodeKind;
  /** One line for describe(); e.g. the step's mode and concurrency. */
  detail?: string;
}

/** Runs one step on an item; the graph counts it in flight until the promise settles. */
export type StepRunner<T> = (item: T, index: number) => Promise<StepResult>;

export interface StepNodeOptions {
  /** Items between the source and the end of their step at any time (default 2). */
  maxInFlight?: number;
  detail?: string;
}

type Stage = { node: GraphNode; op: OperatorFunction<any, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * A pipeline as a chain of named stream operators: a source, the operators
 * before the step (parse, batch), one step node (the worker pool), and the
 * operators after it (hooks, checkpoint, sinks). `compile()` turns it into
 * one cold RxJS Observable of the step results.
 *
 * Backpressure: the source is pulled, one item at a time, only while fewer
 * than `maxInFlight` items are between the step's entry and the end of their
 * step (buffered or running), so a source that outruns training is simply
 * not read and memory stays flat. Operators before the step should be
 * synchronous (map, filter, bufferCount): an async one may hold items the
 * count does not see. Every error leaves the Observable as a PipelineError
 * naming the node it came from.
 */
export class StreamGraph<T = unknown> {
  private source: { node: GraphNode; src: SourceLike<unknown> } | undefined;
  private readonly pre: Stage[] = [];
  private stepStage: { node: GraphNode; run: StepRunner<any>; maxInFlight: number } | undefined; // eslint-disable-line @typescript-eslint/no-explicit-any
  private readonly post: Stage[] = [];
  private readonly names = new Set<string>();

  constructor(readonly name = 'pipeline') {}

  private add(name: string, kind: NodeKind, detail?: string): GraphNode {
    if (!name) throw new ConfigError(`graph ${this.name}: a node needs a name`);
    if (this.names.has(name)) throw new ConfigError(`graph ${this.name}: two nodes are named '${name}'`);
    this.names.add(name);
    return { name, kind, detail };
  }

  from<S>(name: string, src: SourceLike<S>, detail?: string): StreamGraph<S> {
    if (this.source) throw new ConfigError(`graph ${this.name}: it already has the source '${this.source.node.name}'`);
    this.source = { node: this.add(name, 'source', detail), src };
    return this as unknown as StreamGraph<S>;
  }

  /** An operator before the step (parse, batch, any transform). */
  through<U>(name: string, op: OperatorFunction<T, U>, kind: 'parse' | 'batch' | 'transform' = 'transform', detail?: string): StreamGraph<U> {
    if (!this.source) throw new ConfigError(`graph ${this.name}: add the source before '${name}'`);
    if (this.stepStage) throw new ConfigError(`graph ${this.name}: '${name}' comes after the step; use then()`);
    this.pre.push({ node: this.add(name, kind, detail), op });
    return this as unknown as StreamGraph<U>;
  }

  step(name: string, run: StepRunner<T>, opts: StepNodeOptions = {}): StreamGraph<StepResult> {
    if (!this.source) throw new ConfigError(`graph ${this.name}: add the source before the step '${name}'`);
    if (this.stepStage) throw new ConfigError(`graph ${this.name}: it already has the step '${this.stepStage.node.name}'`);
    const maxInFlight = opts.maxInFlight ?? 2;
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new ConfigError(`graph ${this.name}: step '${name}' maxInFlight must be a positive integer, got ${maxInFlight}`);
    this.stepStage = { node: this.add(name, 'step', opts.detail ?? `at most ${maxInFlight} in flight`), run, maxInFlight };
    return this as unknown as StreamGraph<StepResult>;
  }

  /** An operator after the step (hook, checkpoint, sink); it sees and passes on step results. */
  then(name: string, op: OperatorFunction<StepResult, StepResult>, kind: 'hook' | 'sink' | 'checkpoint' | 'transform' = 'hook', detail?: string): StreamGraph<StepResult> {
    if (!this.stepStage) throw new ConfigError(`graph ${this.name}: '${name}' needs the step before it`);
    this.post.push({ node: this.add(name, kind, detail), op });
    return this as unknown as StreamGraph<StepResult>;
  }

  get nodes(): GraphNode[] {
    return [this.source?.node, ...this.pre.map((s) => s.node), this.stepStage?.node, ...this.post.map((s) => s.node)].filter((n): n is GraphNode => !!n);
  }

  /** One line per node, in stream order. */
  describe(): string {
    const lines = [`graph ${this.name}`];
    this.nodes.forEach((n, i) => lines.push(`  ${i === 0 ? '  ' : '→ '}${n.name} [${n.kind}]${n.detail ? ` ${n.detail}` : ''}`));
    return lines.join('\n');
  }

  /** Graphviz DOT of the chain. */
  toDot(): string {
    const q = (s: string) => JSON.stringify(s);
    const shape: Record<NodeKind, string> = { source: 'cylinder', parse: 'box', batch: 'box', transform: 'box', step: 'box3d', hook: 'ellipse', checkpoint: 'folder', sink: 'cylinder' };
    const ns = this.nodes;
    const lines = [`digraph ${q(this.name)} {`, '  rankdir=LR;'];
    for (const n of ns) lines.push(`  ${q(n.name)} [shape=${shape[n.kind]}, label=${q(`${n.name}\\n(${n.kind}${n.detail ? `: ${n.detail}` : ''})`)}];`);
    for (let i = 1; i < ns.length; i++) lines.push(`  ${q(ns[i - 1]!.name)} -> ${q(ns[i]!.name)};`);
    lines.push('}');
    return lines.join('\n');
  }

  /** The pipeline as a cold Observable of step results; each subscription runs it once. */
  compile(): Observable<StepResult> {
    const source = this.source;
    const stepStage = this.stepStage;
    if (!source) throw new ConfigError(`graph ${this.name}: no source`);
    if (!stepStage) throw new ConfigError(`graph ${this.name}: no step node`);
    const named = <X>(node: GraphNode): OperatorFunction<X, X> => catchError((err: unknown) => throwError(() => PipelineError.wrap(node.name, err)));
    return new Observable<StepResult>((subscriber) => {
      let pending = 0;
      const room = new RoomSignal();
      let index = 0;
      let s$: Observable<unknown> = pullSource(source.src, () => pending < stepStage.maxInFlight, room).pipe(named(source.node));
      for (const st of this.pre) s$ = s$.pipe(st.op, named(st.node));
      let out$: Observable<StepResult> = s$.pipe(
        tap(() => pending++),
        mergeMap(async (item) => {
          try {
            return await stepStage.run(item, index++);
          } finally {
            pending--;
            room.signal();
          }
        }, stepStage.maxInFlight),
        named(stepStage.node),
      );
      for (const st of this.post) out$ = out$.pipe(st.op, named(st.node));
      return out$.pipe(finalize(() => room.signal())).subscribe(subscriber);
    });
  }

  /** Items the step node may hold at once. */
  get maxInFlight(): number {
    return this.stepStage?.maxInFlight ?? 0;
  }
}
