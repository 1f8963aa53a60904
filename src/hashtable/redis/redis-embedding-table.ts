import { ConfigError } from '../../errors.js';
import type { ApplyGradientsOptions, EmbeddingHashTableConfig, TableRuntimeOptions } from '../embedding-hash-table.js';
import { EntryLayout } from '../entry-config.js';
import { HashTableError } from '../errors.js';
import { toIdWords, type IdsInput, type IdWords } from '../id-batch.js';
import { segmentLearningRates } from '../learning-rate.js';
import { RedisClusterConnection, type RedisClusterOptions } from './cluster-connection.js';
import { segmentArgs } from './optimizer-functions.js';

const wallClock = (): number => Math.floor(Date.now() / 1000);

/** One stored row as read back from the cluster. */
export interface RedisRow {
  lo: number;
  hi: number;
  /** The row in the shared-memory table's layout (`layout.stride` floats). */
  row: Float32Array;
  /** Last-update seconds. */
  ts: number;
}

/**
 * An embedding table whose rows live in a Redis Cluster: one key per id,
 * `mt:<table>:<id>` (no hash tag, so one table spreads over every hash slot
 * and node), its value the row as the shared-memory table lays it out
 * (float32 little-endian: embedding, optimizer state, last-update seconds).
 * New rows are initialised by the client exactly as the local table does
 * (same initializers seeded by id) and created with SET NX, so concurrent
 * trainers agree on them; gradients are applied on the server by the
 * `mt_apply` Redis Function, so each row update is atomic.
 * Supported: TRAINING entries with SGD, Adagrad or FTRL segments; no
 * occurrence threshold or expiry yet.
 */
export class RedisEmbeddingTable {
  readonly layout: EntryLayout;
  readonly name: string;
  /** Key prefix of this table's rows. */
  readonly prefix: string;
  private readonly clock: () => number;
  private readonly segArgs: string[][];
  private readonly lrs: Float64Array;

  private constructor(
    readonly config: EmbeddingHashTableConfig,
    readonly connection: RedisClusterConnection,
    runtime: TableRuntimeOptions,
    private readonly ownsConnection: boolean,
  ) {
    this.name = config.name ?? 'table';
    this.layout = new EntryLayout(config.entry, config.seed ?? 0);
    this.prefix = `mt:${this.name}:`;
    this.clock = runtime.clock ?? wallClock;
    this.segArgs = segmentArgs(this.layout, this.name);
    this.lrs = new Float64Array(this.layout.segments.length);
    if (config.occurrenceThreshold !== undefined || config.expireTime !== undefined) {
      throw new ConfigError(`redis table ${this.name}: occurrenceThreshold and expireTime are not supported by the Redis backend yet`);
    }
    if (config.learningRates && config.learningRates.length !== this.layout.segments.length) {
      throw new ConfigError(`redis table ${this.name}: ${config.learningRates.length} learning rates for ${this.layout.segments.length} segments`);
    }
  }

  /**
   * Opens the table on a cluster: either an existing connection (shared by
   * several tables) or cluster options (the table then owns the connection and
   * `close()` ends it).
   */
  static async open(config: EmbeddingHashTableConfig, cluster: RedisClusterConnection | RedisClusterOptions, runtime: TableRuntimeOptions = {}): Promise<RedisEmbeddingTable> {
    if (cluster instanceof RedisClusterConnection) return new RedisEmbeddingTable(config, cluster, runtime, false);
    const conn = await RedisClusterConnection.connect(cluster);
    try {
      return new RedisEmbeddingTable(config, conn, runtime, true);
    } catch (err) {
      await conn.close();
      throw err;
    }
  }

  get dim(): number {
    return this.layout.dim;
  }

  /** The key of id (lo, hi). */
  keyOf(lo: number, hi: number): string {
    const id = hi < 0x200000 ? hi * 4294967296 + lo : (BigInt(hi) << 32n) | BigInt(lo);
    return this.prefix + id.toString();
  }

  /** Embeddings of `ids` (n x dim); missing ids are created with the initializer first. */
  lookup(ids: IdsInput, out?: Float32Array): Promise<Float32Array> {
    return this.lookupImpl(ids, out, true);
  }

  /** Like `lookup` but never creates entries: missing ids give zeros. */
  lookupOnly(ids: IdsInput, out?: Float32Array): Promise<Float32Array> {
    return this.lookupImpl(ids, out, false);
  }

  private async lookupImpl(ids: IdsInput, out: Float32Array | undefined, insert: boolean): Promise<Float32Array> {
    const w = toIdWords(ids);
    const u = this.unique(w);
    const dim = this.dim;
    const n = u.first.length;
    const res = out ?? new Float32Array(n * dim);
    this.checkValues('lookup output', n, res);
    const rows = await this.readRows(w, u, insert);
    for (let i = 0; i < n; i++) {
      const r = rows[u.first[i]!];
      for (let d = 0; d < dim; d++) res[i * dim + d] = r ? r.readFloatLE(4 * d) : 0;
    }
    return res;
  }

  /**
   * The stored rows of the distinct ids of `ids` (first occurrences, in input
   * order), whole: embedding, optimizer state and time, as a local table holds
   * them. With `insert`, missing ids are created first (as `lookup` does);
   * without, they are left out.
   */
  async fetchRows(ids: IdsInput, insert: boolean): Promise<RedisRow[]> {
    const w = toIdWords(ids);
    const u = this.unique(w);
    const rows = await this.readRows(w, u, insert);
    const out: RedisRow[] = [];
    rows.forEach((b, j) => {
      if (b) out.push({ lo: w[2 * u.at[j]!]!, hi: w[2 * u.at[j]! + 1]!, row: this.decodeRow(b), ts: b.readUInt32LE(4 * this.layout.tsWord) });
    });
    return out;
  }

  private async readRows(w: IdWords, u: { keys: string[]; at: number[] }, insert: boolean): Promise<Array<Buffer | null>> {
    const rows = (await this.connection.batch(u.keys, (p, k) => p.getBuffer(k))) as Array<Buffer | null>;
    const missing = rows.flatMap((r, j) => (r ? [] : [j]));
    if (insert && missing.length > 0) {
      const ts = this.clock();
      const made = (await this.connection.batch(
        missing.map((j) => u.keys[j]!),
        (p, k, m) => {
          const j = missing[m]!;
          p.set(k, this.newRow(w[2 * u.at[j]!]!, w[2 * u.at[j]! + 1]!, ts), 'NX');
          p.getBuffer(k);
        },
      )) as Array<Buffer | null>;
      missing.forEach((j, m) => (rows[j] = made[m]!));
    }
    rows.forEach((r, j) => r && this.checkRow(r, u.keys[j]!));
    return rows;
  }

  private decodeRow(buf: Buffer): Float32Array {
    const row = new Float32Array(this.layout.stride);
    for (let d = 0; d < row.length; d++) row[d] = buf.readFloatLE(4 * d);
    return row;
  }

  /**
   * Applies gradients (n x dim, in input order) on the server: gradients of a
   * repeated id are summed (float32, in order) and its optimizer runs once, in
   * one atomic Function call per row. Missing ids are created first, as the
   * local table does.
   */
  async applyGradients(ids: IdsInput, grads: Float32Array, opts: ApplyGradientsOptions = {}): Promise<void> {
    const w = toIdWords(ids);
    const dim = this.dim;
    const n = w.length >>> 1;
    this.checkValues('gradients', n, grads);
    const u = this.unique(w);
    const acc = new Float32Array(u.at.length * dim);
    const seen = new Uint8Array(u.at.length);
    for (let i = 0; i < n; i++) {
      const j = u.first[i]!;
      if (!seen[j]) {
        seen[j] = 1;
        acc.set(grads.subarray(i * dim, (i + 1) * dim), j * dim);
      } else for (let d = 0; d < dim; d++) acc[j * dim + d] += grads[i * dim + d]!;
    }
    const lrs = segmentLearningRates(this.layout.segments, this.config.learningRates, opts.globalStep ?? 0, opts.learningRates, this.lrs);
    const segs = this.segArgs.flatMap((a, k) => [a[0]!, a[1]!, a[2]!, a[3]!, String(lrs[k]), a[5]!, a[6]!, a[7]!]);
    const ts = this.clock();
    const head = [String(ts), String(this.layout.tsWord)];
    const tail = [String(segs.length / 8), ...segs];
    const grad = (j: number): Buffer => Buffer.from(acc.buffer, j * dim * 4, dim * 4);
    const fcall = (p: import('ioredis').ChainableCommander, k: string, j: number) => p.call('FCALL', 'mt_apply', 1, k, ...head, grad(j), ...tail);
    const done = await this.connection.batch(u.keys, fcall);
    const missing = done.flatMap((r, j) => (r === 1 ? [] : [j]));
    if (missing.length === 0) return;
    await this.connection.batch(
      missing.map((j) => u.keys[j]!),
      (p, k, m) => {
        const j = missing[m]!;
        p.set(k, this.newRow(w[2 * u.at[j]!]!, w[2 * u.at[j]! + 1]!, ts), 'NX');
        fcall(p, k, j);
      },
    );
  }

  /** Entries stored (a SCAN of every master). */
  async size(): Promise<number> {
    let n = 0;
    await this.scan(async (keys) => void (n += keys.length));
    return n;
  }

  /** Calls `fn` with every row of the table (node by node, in batches; order unspecified). */
  async forEachRow(fn: (r: RedisRow) => void): Promise<void> {
    await this.scan(async (keys, node) => {
      const p = node.pipeline();
      for (const k of keys) p.getBuffer(k);
      const replies = (await p.exec()) ?? [];
      replies.forEach(([err, v], i) => {
        if (err) throw err;
        if (!v) return; // deleted since the SCAN
        const buf = v as Buffer;
        this.checkRow(buf, keys[i]!);
        const id = BigInt(keys[i]!.slice(this.prefix.length));
        const row = this.decodeRow(buf);
        fn({ lo: Number(id & 0xffffffffn), hi: Number(id >> 32n), row, ts: buf.readUInt32LE(4 * this.layout.tsWord) });
      });
    });
  }

  /** Stores rows as they are (replacing existing ones), e.g. from a checkpoint. */
  async putRows(rows: readonly RedisRow[]): Promise<void> {
    await this.connection.batch(
      rows.map((r) => this.keyOf(r.lo, r.hi)),
      (p, k, i) => p.set(k, this.encodeRow(rows[i]!.row, rows[i]!.ts)),
    );
  }

  /** Deletes every row of this table. */
  async clear(): Promise<void> {
    await this.scan(async (keys, node) => {
      const p = node.pipeline();
      for (const k of keys) p.unlink(k); // one command per key: the keys hash to different slots
      await p.exec();
    });
  }

  /** Ends the connection when the table opened it itself. */
  async close(): Promise<void> {
    if (this.ownsConnection) await this.connection.close();
  }

  /** A new row for (lo, hi): the local table's initializers and optimizer init, stamped `ts`. */
  newRow(lo: number, hi: number, ts: number): Buffer {
    const f = new Float32Array(this.layout.stride);
    for (const seg of this.layout.segments) {
      seg.initializer(f, seg.embAt, lo, hi);
      seg.optimizer.init(f, seg.stateAt);
    }
    return this.encodeRow(f, ts);
  }

  private encodeRow(f: Float32Array, ts: number): Buffer {
    const b = Buffer.from(f.buffer.slice(f.byteOffset, f.byteOffset + this.layout.stride * 4));
    b.writeUInt32LE(ts >>> 0, 4 * this.layout.tsWord);
    return b;
  }

  private async scan(onKeys: (keys: string[], node: import('ioredis').Redis) => Promise<void>): Promise<void> {
    const match = this.prefix.replace(/[*?[\]\\]/g, '\\$&') + '*';
    await this.connection.eachMaster(async (node) => {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await onKeys(keys, node);
      } while (cursor !== '0');
    });
  }

  /** Distinct keys of a batch: `keys[j]` first seen at input `at[j]`; input i is distinct key `first[i]`. */
  private unique(w: IdWords): { keys: string[]; at: number[]; first: Int32Array } {
    const n = w.length >>> 1;
    const pos = new Map<string, number>();
    const keys: string[] = [];
    const at: number[] = [];
    const first = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const k = this.keyOf(w[2 * i]!, w[2 * i + 1]!);
      let j = pos.get(k);
      if (j === undefined) {
        pos.set(k, (j = keys.length));
        keys.push(k);
        at.push(i);
      }
      first[i] = j;
    }
    return { keys, at, first };
  }

  private checkRow(b: Buffer, key: string): void {
    if (b.length !== this.layout.stride * 4) {
      throw new HashTableError(`redis table ${this.name}: key ${key} holds ${b.length} bytes, rows of this table have ${this.layout.stride * 4} (another entry config?)`);
    }
  }

  private checkValues(what: string, n: number, values: Float32Array): void {
    if (values.length !== n * this.dim) throw new HashTableError(`redis table ${this.name}: ${what} needs ${n} x ${this.dim} = ${n * this.dim} floats, got ${values.length}`);
  }
}
