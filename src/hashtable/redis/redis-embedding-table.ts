import { ConfigError } from '../../errors.js';
import type { ApplyGradientsOptions, EmbeddingHashTableConfig, TableRuntimeOptions } from '../embedding-hash-table.js';
import { regularizationScaleOf } from '../embedding-hash-table-config.js';
import { EntryLayout } from '../entry-config.js';
import { HashTableError } from '../errors.js';
import { toIdWords, type IdsInput, type IdWords } from '../id-batch.js';
import { segmentLearningRates } from '../learning-rate.js';
import { expireTimes, occurrenceThresholds, SlotTable } from '../slot-policy.js';
import { RedisClusterConnection, type RedisClusterOptions } from './cluster-connection.js';
import { l2Scaled, segmentArgs } from './optimizer-functions.js';
import { vocabularyRegularizationFactor } from '../vocabulary-regularization.js';

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
 * Supported: TRAINING entries with SGD, Adagrad or FTRL segments.
 * Occurrence thresholds: a missing id is created once lookups have missed it
 * `threshold` times (a counter shared by every trainer); until then lookups
 * give zeros and its gradients are dropped. Expiry: with `expireTime` set, a
 * row's key expires its slot's expire time after its last update (Redis TTL).
 */
export class RedisEmbeddingTable {
  readonly layout: EntryLayout;
  readonly name: string;
  /** Key prefix of this table's rows. */
  readonly prefix: string;
  private readonly clock: () => number;
  private readonly segArgs: string[][];
  private readonly lrs: Float64Array;
  /** Ids held as last counted for vocabulary regularization, and when (clock seconds). */
  private held: { n: number; at: number } | undefined;
  private readonly thresholds: SlotTable;
  /** Expire times (days) per slot, or undefined when the config sets none (rows never expire). */
  private readonly expiry: SlotTable | undefined;
  /** Key prefix of the sighting counters of ids not yet admitted (occurrence thresholds). */
  readonly seenPrefix: string;

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
    const v = config.fidVersion ?? 2;
    this.thresholds = new SlotTable(occurrenceThresholds(config.occurrenceThreshold), v);
    this.expiry = config.expireTime !== undefined ? new SlotTable(expireTimes(config.expireTime), v) : undefined;
    this.seenPrefix = `mt-seen:${this.name}:`;
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
    let missing = rows.flatMap((r, j) => (r ? [] : [j]));
    if (insert && missing.length > 0) {
      missing = await this.admitted(w, u, missing);
      const ts = this.clock();
      const made = (await this.connection.batch(
        missing.map((j) => u.keys[j]!),
        (p, k, m) => {
          const j = missing[m]!;
          this.create(p, k, w[2 * u.at[j]!]!, w[2 * u.at[j]! + 1]!, ts);
          p.getBuffer(k);
        },
      )) as Array<Buffer | null>;
      missing.forEach((j, m) => (rows[j] = made[m]!));
    }
    rows.forEach((r, j) => r && this.checkRow(r, u.keys[j]!));
    return rows;
  }

  /**
   * Of the missing distinct ids `missing`, those to create now: ids whose slot
   * has no occurrence threshold, and ids seen `threshold` times before (each
   * lookup that misses an id counts one sighting, in a counter key
   * `mt-seen:<table>:<id>` shared by every trainer).
   */
  private async admitted(w: IdWords, u: { keys: string[]; at: number[] }, missing: number[]): Promise<number[]> {
    const counted = missing.filter((j) => this.thresholdOf(w[2 * u.at[j]! + 1]!) > 0);
    if (counted.length === 0) return missing;
    const seenKey = (j: number) => this.seenPrefix + u.keys[j]!.slice(this.prefix.length);
    // A counter lives (from the first sighting) as long as an entry would, 30 days without expiry configured.
    const ttl = (j: number) => this.expireSecondsOf(w[2 * u.at[j]! + 1]!) || 30 * 86400;
    const counts = (await this.connection.batch(counted.map(seenKey), (p, k, m) => {
      p.set(k, '0', 'EX', ttl(counted[m]!), 'NX');
      p.incr(k);
    })) as number[];
    const ok = new Set(counted.filter((j, m) => counts[m]! > this.thresholdOf(w[2 * u.at[j]! + 1]!)));
    return missing.filter((j) => !counted.includes(j) || ok.has(j));
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
    const scale = regularizationScaleOf(opts);
    const regs = await this.regularizationFactors();
    const segs = this.segArgs.flatMap((a, k) => [a[0]!, a[1]!, a[2]!, a[3]!, String(lrs[k]), ...l2Scaled(a, scale * regs[k]!)]);
    const ts = this.clock();
    const head = [String(ts), String(this.layout.tsWord)];
    const tail = [String(segs.length / 8), ...segs];
    const grad = (j: number): Buffer => Buffer.from(acc.buffer, j * dim * 4, dim * 4);
    const fcall = (p: import('ioredis').ChainableCommander, k: string, j: number) => p.call('FCALL', 'mt_apply', 1, k, ...head, grad(j), ...tail, String(this.expireSecondsOf(w[2 * u.at[j]! + 1]!)));
    const done = await this.connection.batch(u.keys, fcall);
    // Missing rows are created as the local table does; ids of a slot with an occurrence threshold are not entries yet: their gradients are dropped.
    const missing = done.flatMap((r, j) => (r === 1 || this.thresholdOf(w[2 * u.at[j]! + 1]!) > 0 ? [] : [j]));
    if (missing.length === 0) return;
    await this.connection.batch(
      missing.map((j) => u.keys[j]!),
      (p, k, m) => {
        const j = missing[m]!;
        this.create(p, k, w[2 * u.at[j]!]!, w[2 * u.at[j]! + 1]!, ts);
        fcall(p, k, j);
      },
    );
  }

  /**
   * Per segment, the factor its L2 is multiplied by (vocabularyRegularization, as the shared-memory table
   * computes it). A counted vocabulary is the table's size, re-counted (a SCAN) at most once a minute.
   */
  async regularizationFactors(): Promise<number[]> {
    const segs = this.layout.segments;
    if (!segs.some((sg) => sg.vocabularyRegularization)) return segs.map(() => 1);
    if (segs.some((sg) => sg.vocabularyRegularization && sg.vocabularyRegularization.vocabulary == null)) {
      const now = this.clock();
      if (!this.held || now - this.held.at >= 60) this.held = { n: await this.size(), at: now };
    }
    const held = this.held?.n ?? 0;
    return segs.map((sg) => (sg.vocabularyRegularization ? vocabularyRegularizationFactor(sg.vocabularyRegularization, held) : 1));
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

  /**
   * Stores rows as they are (replacing existing ones), e.g. from a checkpoint.
   * With expiry configured, a row expires its slot's expire time after its
   * last update `ts`; rows already past it are not stored.
   */
  async putRows(rows: readonly RedisRow[]): Promise<void> {
    const now = this.clock();
    const live = this.expiry ? rows.filter((r) => now - r.ts < this.expireSecondsOf(r.hi)) : rows;
    await this.connection.batch(
      live.map((r) => this.keyOf(r.lo, r.hi)),
      (p, k, i) => {
        const r = live[i]!;
        const ttl = this.expiry ? this.expireSecondsOf(r.hi) - (now - r.ts) : 0;
        if (ttl > 0) p.set(k, this.encodeRow(r.row, r.ts), 'EX', ttl);
        else p.set(k, this.encodeRow(r.row, r.ts));
      },
    );
  }

  /** The occurrence threshold of the slot of a FID's high word (0: admitted at once). */
  thresholdOf(hi: number): number {
    return this.thresholds.forHi(hi);
  }

  /** Seconds a row of this FID's slot lives after its last update, or 0 when the config sets no expiry. */
  expireSecondsOf(hi: number): number {
    return this.expiry ? Math.max(1, Math.round(this.expiry.forHi(hi) * 86400)) : 0;
  }

  /** Queues the creation of row (lo, hi) unless it exists (SET NX, with its expiry). */
  private create(p: import('ioredis').ChainableCommander, key: string, lo: number, hi: number, ts: number): void {
    const ttl = this.expireSecondsOf(hi);
    if (ttl > 0) p.set(key, this.newRow(lo, hi, ts), 'EX', ttl, 'NX');
    else p.set(key, this.newRow(lo, hi, ts), 'NX');
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
