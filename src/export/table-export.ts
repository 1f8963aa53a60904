import { mkdir } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import Long from 'long';
import { FormatError } from '../errors.js';
import { TFRecordWriter } from '../io/tfrecord.js';
import { readEntryFile } from '../hashtable/checkpoint.js';
import { EmbeddingHashTable } from '../hashtable/embedding-hash-table.js';
import { encodeEntryDump } from '../hashtable/entry-dump.js';
import { fromHalf, toHalf } from '../hashtable/fp16.js';
import { findShardFiles, shardedFileName } from '../hashtable/sharded-files.js';
import type { ExportedTable } from './export-manifest.js';

/** Which of `count` parameter servers owns a FID given as words: `fid % count`, exact over 64 bits. */
export function partitionOf(lo: number, hi: number, count: number): number {
  if (count === 1) return 0;
  const twoTo32 = 2 ** 32 % count;
  return (((hi >>> 0) % count) * twoTo32 + ((lo >>> 0) % count)) % count;
}

export interface ServingDumpOptions {
  fp16?: boolean;
  skipZeroEmbedding?: boolean;
  partition?: { index: number; count: number };
  /** Files to write (default 1). */
  nshards?: number;
}

const roundHalf = (v: number) => fromHalf(toHalf(v));

/**
 * Writes a table's serving rows as EntryDump shards `<basename>-0000k-of-0000N`:
 * id, embedding (rounded to fp16 when asked), last update time, no optimizer
 * state; all-zero embeddings left out with skipZeroEmbedding; only the ids of
 * one partition when given. Each file is written to a temp name and renamed.
 */
export async function writeServingDump(table: EmbeddingHashTable, basename: string, opts: ServingDumpOptions = {}): Promise<number> {
  const n = opts.nshards ?? 1;
  await mkdir(dirname(basename), { recursive: true });
  const writers = await Promise.all(Array.from({ length: n }, (_, k) => TFRecordWriter.open(shardedFileName(basename, k, n))));
  const scratch = new Float32Array(table.dim);
  let count = 0;
  try {
    for (let s = 0; s < table.shards.length; s++) {
      const records: [number, Uint8Array][] = [];
      table.forEachEntry(s, (lo, hi, row, sh) => {
        if (opts.partition && partitionOf(lo, hi, opts.partition.count) !== opts.partition.index) return;
        const emb = table.readEmbedding(sh, row, scratch);
        if (opts.skipZeroEmbedding && emb.every((v) => v === 0)) return;
        const num = Array.from(emb, opts.fp16 ? roundHalf : (v: number) => v);
        const ts = sh.u32[row * sh.stride + table.layout.tsWord]!;
        records.push([(lo ^ hi) >>> 0, encodeEntryDump({ id: Long.fromBits(lo | 0, hi | 0, false), num, lastUpdateTsSec: Long.fromNumber(ts) })]);
      });
      for (const [h, r] of records) await writers[h % n]!.write(r);
      count += records.length;
    }
    for (const w of writers) await w.close();
  } catch (err) {
    for (const w of writers) await w.abort();
    throw err;
  }
  return count;
}

/** A SERVING table for an exported table: embedding only, halves when fp16, never inserts on lookup. */
export function createServingTable(t: Pick<ExportedTable, 'name' | 'dim' | 'fp16' | 'skipZeroEmbedding'>, shards = 1): EmbeddingHashTable {
  return EmbeddingHashTable.create({
    name: t.name,
    entry: { entryType: 'SERVING', segments: [{ dimSize: t.dim, ...(t.fp16 ? { compConfig: { fp16: {} } } : {}) }] },
    skipZeroEmbedding: t.skipZeroEmbedding,
    shards,
  });
}

/**
 * Loads an exported table's rows into `table` (a serving table): every shard
 * file is read and checked first; entries outside the table's partition are
 * skipped (shared checkpoint files hold all ids). Returns the entries loaded.
 */
export async function loadServingDump(table: EmbeddingHashTable, t: ExportedTable, exportDir: string): Promise<number> {
  const basename = isAbsolute(t.basename) ? t.basename : join(exportDir, t.basename);
  const files = await findShardFiles(basename);
  if (files.length === 0) throw new FormatError(`table ${t.name}: no files ${basename}-NNNNN-of-NNNNN`, { file: basename });
  const staged: { lo: number; hi: number; num: number[]; ts: number }[] = [];
  let read = 0;
  for (const f of files) {
    await readEntryFile(f, t.dim, (e) => {
      read++;
      if (t.partition && partitionOf(e.lo, e.hi, t.partition.count) !== t.partition.index) return;
      staged.push(e);
    });
  }
  if (!t.shared && t.entries !== undefined && read !== t.entries) {
    throw new FormatError(`table ${t.name}: files hold ${read} entries, the manifest records ${t.entries} (empty or truncated shard)`, { file: files.length === 1 ? files[0] : basename, field: `tables[${t.name}].entries` });
  }
  for (const e of staged) {
    if (t.skipZeroEmbedding && e.num.every((v) => v === 0)) continue;
    table.putEntry(e.lo, e.hi, e.num, e.ts >>> 0);
  }
  return staged.length;
}
