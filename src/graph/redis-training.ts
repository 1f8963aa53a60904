import { sparseColumn, type Batch } from '../batch/batch.js';
import { ConfigError } from '../errors.js';
import { tableFilePrefix } from '../hashtable/checkpoint.js';
import type { CheckpointableTables } from '../hashtable/checkpoint-listeners.js';
import type { EmbeddingHashTable } from '../hashtable/embedding-hash-table.js';
import { RedisClusterConnection } from '../hashtable/redis/cluster-connection.js';
import { restoreRedisTable, saveRedisTable } from '../hashtable/redis/redis-checkpoint.js';
import { RedisEmbeddingTable } from '../hashtable/redis/redis-embedding-table.js';
import { RedisRowCache } from '../hashtable/redis/redis-row-cache.js';
import type { ModelSpec } from '../model/model-spec.js';
import { log } from '../util/log.js';
import { RedisDenseParams } from '../workers/redis-dense-params.js';
import type { SharedDenseParams } from '../workers/shared-dense-params.js';
import type { StepResult } from './step-result.js';

export type TrainerRole = 'chief' | 'worker';

export interface RedisTrainingOptions {
  /** Any nodes of the Redis Cluster ("host:port"); the rest are discovered. */
  nodes: string[];
  /** A node that does not answer within this many ms fails training with a RedisNodeError (default 5000). */
  timeoutMs?: number;
  /**
   * 'chief' (default) initialises the cluster (from the newest checkpoint, or
   * fresh) when it holds nothing yet, and writes checkpoints and exports;
   * 'worker' waits for a chief to have initialised it and only trains.
   */
  role?: TrainerRole;
  /** This trainer's number (counters and logs). Default 0. */
  trainerIndex?: number;
  /** A cached embedding row is read again once it is this old (ms). Default 1000; 0: every step reads its rows. */
  stalenessMs?: number;
  /** Dense parameters are synced with the cluster every this many steps of this trainer (default 10)… */
  denseSyncSteps?: number;
  /** …or once this many ms passed since the last sync, whichever comes first (default 1000). */
  denseSyncMs?: number;
  /** How long a worker waits for a chief to initialise the cluster (default 60000 ms). */
  chiefWaitMs?: number;
  /** Milliseconds clock (default Date.now). */
  now?: () => number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Training against parameters in a Redis Cluster (Monolith's asynchronous
 * parameter-server semantics). Sparse rows: each local shared-memory table is
 * a cache in front of its Redis table (RedisRowCache) — before a step the
 * batch's rows that are missing or older than `stalenessMs` are read, after
 * it the step's gradients are applied on the cluster (atomic per row) and the
 * rows read back. Dense parameters: RedisDenseParams, synced every
 * `denseSyncSteps` steps or `denseSyncMs` ms. The chief's checkpoints hold the
 * cluster's rows (saveRedisTable) and the synced dense parameters.
 */
export class RedisTraining {
  private stepsSinceSync = 0;
  private lastSync: number;
  private syncing: Promise<void> | undefined;
  readonly role: TrainerRole;
  readonly trainerIndex: number;
  private readonly countersKey: string;

  private constructor(
    readonly opts: RedisTrainingOptions,
    readonly spec: ModelSpec,
    readonly conn: RedisClusterConnection,
    readonly remote: Record<string, RedisEmbeddingTable>,
    readonly caches: Record<string, RedisRowCache>,
    readonly dense: RedisDenseParams,
    private readonly now: () => number,
  ) {
    this.role = opts.role ?? 'chief';
    this.trainerIndex = opts.trainerIndex ?? 0;
    this.lastSync = now();
    this.countersKey = `mt:trainers:${spec.name}`;
  }

  /** Connects, opens a Redis table per model table and checks the options. */
  static async open(opts: RedisTrainingOptions, spec: ModelSpec, tables: Record<string, EmbeddingHashTable>, dense: SharedDenseParams): Promise<RedisTraining> {
    if (!opts.nodes?.length) throw new ConfigError('redis training: needs at least one Redis node');
    if (opts.role !== undefined && opts.role !== 'chief' && opts.role !== 'worker') throw new ConfigError(`redis training: role must be chief or worker, got ${String(opts.role)}`);
    const ints: Array<[string, number | undefined, number]> = [['trainerIndex', opts.trainerIndex, 0], ['stalenessMs', opts.stalenessMs, 0], ['denseSyncSteps', opts.denseSyncSteps, 1], ['denseSyncMs', opts.denseSyncMs, 0], ['chiefWaitMs', opts.chiefWaitMs, 0]];
    for (const [name, v, min] of ints) {
      if (v !== undefined && !(Number.isInteger(v) && v >= min)) throw new ConfigError(`redis training: ${name} must be an integer >= ${min}, got ${v}`);
    }
    const now = opts.now ?? Date.now;
    const conn = await RedisClusterConnection.connect({ nodes: opts.nodes, timeoutMs: opts.timeoutMs });
    try {
      const remote: Record<string, RedisEmbeddingTable> = {};
      const caches: Record<string, RedisRowCache> = {};
      for (const [name, local] of Object.entries(tables)) {
        remote[name] = await RedisEmbeddingTable.open({ ...local.config, name: local.name }, conn);
        caches[name] = new RedisRowCache(local, remote[name]!, { stalenessMs: opts.stalenessMs ?? 1000, now });
      }
      return new RedisTraining(opts, spec, conn, remote, caches, new RedisDenseParams(conn, spec.name, dense), now);
    } catch (err) {
      await conn.close();
      throw err;
    }
  }

  /** The Redis tables as the checkpoint saver saves and restores tables (same files as the shared-memory tables). */
  checkpointables(): CheckpointableTables[] {
    return Object.values(this.remote).map((t) => {
      let saved = 0;
      return {
        name: tableFilePrefix(t.name),
        save: async (basename: string) => (saved = await saveRedisTable(t, basename)),
        restore: (basename: string) => restoreRedisTable(t, basename),
        featureCounts: () => ({ featureCounts: { [t.name]: saved } }),
      };
    });
  }

  /**
   * Brings the local state in line with the cluster. A chief facing an empty
   * cluster first restores the newest checkpoint into it (`restore`, which
   * returns the restored step) or publishes the fresh parameters; a worker
   * waits (up to `chiefWaitMs`) for the chief to have done so. Returns the
   * restored step when this call restored one.
   */
  async start(restore: (() => Promise<number | undefined>) | undefined): Promise<number | undefined> {
    let restored: number | undefined;
    if (this.role === 'chief') {
      if (!(await this.dense.stored())) {
        restored = await restore?.();
        await this.dense.publish();
        log.info(`redis training: chief initialised the cluster${restored !== undefined ? ` from the checkpoint of step ${restored}` : ''}`);
      }
    } else {
      const end = this.now() + (this.opts.chiefWaitMs ?? 60_000);
      while (!(await this.dense.stored())) {
        if (this.now() >= end) throw new ConfigError(`redis training: no chief initialised the parameters of model ${this.spec.name} on the cluster within ${this.opts.chiefWaitMs ?? 60_000} ms (start a trainer with role chief)`);
        await sleep(100);
      }
    }
    await this.dense.pull();
    this.lastSync = this.now();
    return restored;
  }

  /** Reads the rows the batch uses that are missing locally or stale. */
  async beforeStep(batch: Batch): Promise<void> {
    await Promise.all(
      this.spec.features.map(async (f) => {
        const col = sparseColumn(batch, f.name) ?? sparseColumn(batch, f.slot);
        if (col && col.fids.length) await this.caches[f.table]!.pull(col.fids);
      }),
    );
  }

  /** Applies the step's sparse gradients on the cluster, counts its examples, and syncs the dense parameters when due. */
  async afterStep(result: StepResult): Promise<void> {
    const ups = result.sparseUpdates ?? [];
    await Promise.all(ups.map((u) => this.caches[u.table]!.push(u.fids, u.grads, { globalStep: u.globalStep, regularizationScale: u.regularizationScale })));
    await this.conn.batch([this.countersKey], (p, k) => p.hincrby(k, `trainer-${this.trainerIndex}`, result.examples));
    this.stepsSinceSync++;
    if (this.stepsSinceSync >= (this.opts.denseSyncSteps ?? 10) || this.now() - this.lastSync >= (this.opts.denseSyncMs ?? 1000)) await this.syncDense();
  }

  /** Adds this trainer's dense changes to the cluster and reads the sum back (one sync at a time). */
  syncDense(): Promise<void> {
    this.syncing ??= (async () => {
      try {
        this.stepsSinceSync = 0;
        this.lastSync = this.now();
        await this.dense.sync();
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  /** Examples each trainer applied to the cluster, by trainer index. */
  async examplesByTrainer(): Promise<Record<string, number>> {
    const h = (await this.conn.batch([this.countersKey], (p, k) => p.hgetall(k)))[0] as Record<string, string>;
    return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Number(v)]));
  }

  async close(): Promise<void> {
    await this.conn.close();
  }
}
