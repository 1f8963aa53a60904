import type { ChainableCommander, Cluster } from 'ioredis';
import { lazyRequire } from '../../util/lazy-require.js';
import { HashTableError } from '../errors.js';
import { RedisNodeError } from './errors.js';
import { FUNCTION_SOURCE } from './optimizer-functions.js';

const ioredis = lazyRequire<typeof import('ioredis')>('ioredis');
const keySlot = lazyRequire<typeof import('cluster-key-slot')>('cluster-key-slot');

export interface RedisClusterOptions {
  /** Any of the cluster's nodes, as "host:port" or { host, port }; the rest are discovered. */
  nodes: ReadonlyArray<string | { host: string; port: number }>;
  /** Milliseconds a node may take to answer one batch (or the cluster to become ready) before it counts as failed; default 5000. */
  timeoutMs?: number;
}

const nodeName = (n: string | { host: string; port: number }): string => (typeof n === 'string' ? n : `${n.host}:${n.port}`);

/**
 * A connection to a Redis Cluster (ioredis, loaded on first use) that sends
 * batches as one pipeline per node: the keys of a batch are grouped by the
 * master that owns their hash slot. A node that does not answer within the
 * timeout fails the batch with a RedisNodeError naming it; nothing waits forever.
 */
export class RedisClusterConnection {
  private constructor(
    readonly cluster: Cluster,
    readonly timeoutMs: number,
  ) {}

  /** Connects, waits until the slot map is known, and loads the optimizer Functions on every master. */
  static async connect(opts: RedisClusterOptions): Promise<RedisClusterConnection> {
    const timeoutMs = opts.timeoutMs ?? 5000;
    const seeds = opts.nodes.map((n) => (typeof n === 'string' ? { host: n.slice(0, n.lastIndexOf(':')), port: Number(n.slice(n.lastIndexOf(':') + 1)) } : n));
    const names = opts.nodes.map(nodeName);
    const cluster = new (ioredis().Cluster)(seeds, {
      enableReadyCheck: true,
      clusterRetryStrategy: (times) => (times > 3 ? null : 100),
      retryDelayOnClusterDown: 100,
      retryDelayOnFailover: 100,
      maxRedirections: 8,
      slotsRefreshTimeout: timeoutMs,
      redisOptions: { commandTimeout: timeoutMs, maxRetriesPerRequest: 1, connectTimeout: timeoutMs },
    });
    const conn = new RedisClusterConnection(cluster, timeoutMs);
    cluster.on('error', () => {}); // failures surface through the operations that hit them
    try {
      await conn.withTimeout(
        new Promise<void>((resolve, reject) => {
          cluster.once('ready', () => resolve());
          cluster.once('end', () => reject(new Error('connection ended')));
        }),
        names,
        'connect',
      );
      await Promise.all(cluster.nodes('master').map((n) => conn.withTimeout(n.call('FUNCTION', 'LOAD', 'REPLACE', FUNCTION_SOURCE), [`${n.options.host}:${n.options.port}`], 'FUNCTION LOAD')));
    } catch (err) {
      cluster.disconnect();
      if (err instanceof RedisNodeError) throw err;
      throw new RedisNodeError(`redis cluster ${names.join(', ')}: cannot connect: ${(err as Error).message}`, names, { cause: err });
    }
    return conn;
  }

  /** "host:port" of every master. */
  masters(): string[] {
    return this.cluster.nodes('master').map((n) => `${n.options.host}:${n.options.port}`);
  }

  /**
   * Runs `add(pipeline, i)` for every key (it queues that key's commands) as
   * one pipeline per owning node, all nodes at once. Returns, per key, the
   * reply of the last command queued for it. Any failure is typed: a node
   * that is down or silent → RedisNodeError naming every failed node; an error
   * reply → HashTableError with the reply.
   */
  async batch(keys: readonly string[], add: (p: ChainableCommander, key: string, i: number) => void): Promise<unknown[]> {
    const groups = new Map<string, number[]>();
    const slots = this.cluster.slots;
    const slotOf = keySlot();
    for (let i = 0; i < keys.length; i++) {
      const owner = slots[slotOf(keys[i]!)]?.[0] ?? '?';
      let g = groups.get(owner);
      if (!g) groups.set(owner, (g = []));
      g.push(i);
    }
    const out = new Array<unknown>(keys.length);
    const settled = await Promise.allSettled(
      [...groups].map(async ([node, idx]) => {
        const what = `batch of ${idx.length} keys`;
        const p = this.cluster.pipeline();
        const last: number[] = [];
        for (const i of idx) {
          add(p, keys[i]!, i);
          last.push(p.length - 1);
        }
        const replies = await this.withTimeout(p.exec(), [node], what).catch((err: Error) => Promise.reject(classify(err, node, what)));
        idx.forEach((i, u) => {
          const [err, res] = replies?.[last[u]!] ?? [new Error('no reply'), null];
          if (err) throw classify(err, node, what);
          out[i] = res;
        });
      }),
    );
    const failed = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as Error] : []));
    if (failed.length === 0) return out;
    const nodeErrors = failed.filter((e): e is RedisNodeError => e instanceof RedisNodeError);
    if (nodeErrors.length === 0) throw failed[0]!;
    const nodes = [...new Set(nodeErrors.flatMap((e) => e.nodes))];
    throw new RedisNodeError(nodeErrors.map((e) => e.message).join('; '), nodes, { cause: nodeErrors[0] });
  }

  /** `op` on every master (e.g. a SCAN); failures as in `batch`. */
  async eachMaster<T>(op: (node: import('ioredis').Redis, name: string) => Promise<T>): Promise<T[]> {
    return Promise.all(
      this.cluster.nodes('master').map(async (n) => {
        const name = `${n.options.host}:${n.options.port}`;
        try {
          return await this.withTimeout(op(n, name), [name], 'scan');
        } catch (err) {
          throw classify(err as Error, name, 'scan');
        }
      }),
    );
  }

  async close(): Promise<void> {
    await this.cluster.quit().catch(() => this.cluster.disconnect());
  }

  private withTimeout<T>(p: Promise<T>, nodes: string[], what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RedisNodeError(`redis node ${nodes.join(', ')}: ${what} got no answer within ${this.timeoutMs} ms`, nodes)), this.timeoutMs);
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }
}

/** Error replies of the server stay HashTableErrors; lost connections and cluster-down become RedisNodeErrors. */
function classify(err: Error, node: string, what: string): Error {
  if (err instanceof HashTableError) return err;
  const msg = err.message ?? String(err);
  if (err.name === 'ReplyError' && !/^(CLUSTERDOWN|TRYAGAIN|MOVED|ASK|LOADING|MASTERDOWN)\b/.test(msg)) return new HashTableError(`redis node ${node}: ${what}: ${msg}`, { cause: err });
  return new RedisNodeError(`redis node ${node} is down or unreachable (${what}: ${msg})`, [node], { cause: err });
}
