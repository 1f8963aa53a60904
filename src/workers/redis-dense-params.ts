import { ConfigError, FormatError } from '../errors.js';
import type { RedisClusterConnection } from '../hashtable/redis/cluster-connection.js';
import type { SharedDenseParams } from './shared-dense-params.js';

/** Floats per stored chunk of the dense parameters. */
export const DENSE_CHUNK_FLOATS = 4096;

/**
 * The dense parameters of a model in a Redis Cluster, shared by several
 * trainers as Monolith's asynchronous parameter servers share them: the flat
 * weights (every parameter, in order) as chunks of `DENSE_CHUNK_FLOATS`
 * float32s, `mt:dense:<model>:<k>`, spread over the cluster; the global step
 * `mt:dense:<model>:step`; and a meta key, written last, that says the
 * parameters are there and which shapes they have.
 *
 * A trainer keeps a local copy (its SharedDenseParams, which its worker
 * threads update in place) and `sync()`s it: the change since its last sync
 * is added to the stored weights by the `mt_apply` Function (plain SGD with
 * learning rate 1 on the negated change, atomic per chunk, so concurrent
 * trainers' changes add up), then the stored weights are read back. Updates
 * its threads make during a sync are kept on top. The optimizer slots of the
 * dense optimizer stay local to each trainer.
 */
export class RedisDenseParams {
  private readonly prefix: string;
  private readonly total: number;
  private readonly chunks: number;
  /** The stored weights as of the last sync (what the local change is measured against). */
  private base: Float32Array;
  /** Local global step at the last sync. */
  private baseStep = 0;

  constructor(
    private readonly conn: RedisClusterConnection,
    readonly model: string,
    readonly dense: SharedDenseParams,
  ) {
    this.prefix = `mt:dense:${model}:`;
    this.total = dense.flatWeights.length;
    this.chunks = Math.ceil(this.total / DENSE_CHUNK_FLOATS);
    this.base = dense.flatWeights.slice();
  }

  private get shapes(): string {
    // Shapes only: layer names carry counters that differ between processes.
    return JSON.stringify(this.dense.params.map((p) => p.shape));
  }

  private chunkKeys(): string[] {
    return Array.from({ length: this.chunks }, (_, k) => `${this.prefix}${k}`);
  }

  private async one(key: string, add: (p: import('ioredis').ChainableCommander, k: string) => void): Promise<unknown> {
    return (await this.conn.batch([key], (p, k) => add(p, k)))[0];
  }

  /** Whether the parameters are stored (a chief published them); a ConfigError when they have other shapes. */
  async stored(): Promise<boolean> {
    const meta = (await this.one(`${this.prefix}meta`, (p, k) => p.get(k))) as string | null;
    if (meta === null) return false;
    if (meta !== this.shapes) throw new ConfigError(`redis dense params of model ${this.model}: the cluster holds parameters ${meta}, this model has ${this.shapes}; use another model name or clear the cluster`);
    return true;
  }

  /** Stores the local weights and global step (replacing what is stored), the meta key last. */
  async publish(): Promise<void> {
    const w = this.dense.flatWeights.slice();
    await this.conn.batch(this.chunkKeys(), (p, k, i) => p.set(k, this.encode(w, i)));
    await this.one(`${this.prefix}step`, (p, k) => p.set(k, String(this.dense.globalStep)));
    await this.one(`${this.prefix}meta`, (p, k) => p.set(k, this.shapes));
    this.base = w;
    this.baseStep = this.dense.globalStep;
  }

  /** Replaces the local weights and global step with the stored ones. */
  async pull(): Promise<void> {
    const { weights, step } = await this.read();
    this.dense.flatWeights.set(weights);
    this.dense.globalStep = step;
    this.base = weights;
    this.baseStep = step;
  }

  /**
   * Adds the local change since the last sync (weights and steps) to the
   * stored parameters, then reads them back; changes made locally meanwhile are kept.
   */
  async sync(): Promise<void> {
    const snap = this.dense.flatWeights.slice();
    const snapStep = this.dense.globalStep;
    const keys = this.chunkKeys();
    await this.conn.batch(keys, (p, k, i) => {
      const from = i * DENSE_CHUNK_FLOATS;
      const n = Math.min(DENSE_CHUNK_FLOATS, this.total - from);
      const neg = new Float32Array(n);
      for (let j = 0; j < n; j++) neg[j] = this.base[from + j]! - snap[from + j]!;
      p.call('FCALL', 'mt_apply', 1, k, '0', String(n), Buffer.from(neg.buffer), '1', 'sgd', String(n), '0', String(n), '1', '0', '0', '0', '0');
    });
    await this.one(`${this.prefix}step`, (p, k) => p.incrby(k, snapStep - this.baseStep));
    const { weights, step } = await this.read();
    const live = this.dense.flatWeights;
    for (let j = 0; j < this.total; j++) live[j] = weights[j]! + (live[j]! - snap[j]!);
    this.dense.globalStep = step + (this.dense.globalStep - snapStep);
    this.base = weights;
    this.baseStep = step;
  }

  private async read(): Promise<{ weights: Float32Array; step: number }> {
    const bufs = (await this.conn.batch(this.chunkKeys(), (p, k) => p.getBuffer(k))) as Array<Buffer | null>;
    const weights = new Float32Array(this.total);
    bufs.forEach((b, i) => {
      const from = i * DENSE_CHUNK_FLOATS;
      const n = Math.min(DENSE_CHUNK_FLOATS, this.total - from);
      if (!b || b.length !== (n + 1) * 4) throw new FormatError(`redis dense params of model ${this.model}: chunk ${i} holds ${b ? b.length : 'no'} bytes, expected ${(n + 1) * 4}`, { field: `${this.prefix}${i}` });
      for (let j = 0; j < n; j++) weights[from + j] = b.readFloatLE(4 * j);
    });
    const step = Number((await this.one(`${this.prefix}step`, (p, k) => p.get(k))) ?? 0);
    return { weights, step };
  }

  /** Chunk i of `w` as stored: n float32s and a time word (which mt_apply maintains). */
  private encode(w: Float32Array, i: number): Buffer {
    const from = i * DENSE_CHUNK_FLOATS;
    const n = Math.min(DENSE_CHUNK_FLOATS, this.total - from);
    const b = Buffer.alloc((n + 1) * 4);
    for (let j = 0; j < n; j++) b.writeFloatLE(w[from + j]!, 4 * j);
    return b;
  }
}
