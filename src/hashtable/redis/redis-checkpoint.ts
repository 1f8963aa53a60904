import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import Long from 'long';
import { FormatError } from '../../errors.js';
import { TFRecordWriter } from '../../io/tfrecord.js';
import { defaultSaveShards, readEntryFile, type SaveOptions } from '../checkpoint.js';
import { encodeEntryDump, type DecodedEntry } from '../entry-dump.js';
import { findShardFiles, removeOtherShardCounts, shardedFileName } from '../sharded-files.js';
import type { RedisEmbeddingTable, RedisRow } from './redis-embedding-table.js';

/**
 * Saves a Redis table as the shared-memory table saves itself: TFRecord files
 * `<basename>-0000k-of-0000N` of Monolith EntryDump records (embedding,
 * optimizer dump per segment, last-update seconds), each written to a temp
 * name and renamed. Either table type restores the files. Returns the entries written.
 */
export async function saveRedisTable(table: RedisEmbeddingTable, basename: string, opts: SaveOptions = {}): Promise<number> {
  const L = table.layout;
  const records: Uint8Array[] = [];
  await table.forEachRow(({ lo, hi, row, ts }) => {
    records.push(
      encodeEntryDump({
        id: Long.fromBits(lo | 0, hi | 0, false),
        num: Array.from(row.subarray(0, L.dim)),
        opt: { dump: L.segments.map((seg) => seg.optimizer.dump(row, seg.stateAt)) },
        lastUpdateTsSec: Long.fromNumber(ts),
      }),
    );
  });
  const n = opts.nshards ?? defaultSaveShards(records.length);
  await mkdir(dirname(basename), { recursive: true });
  for (let k = 0; k < n; k++) {
    const w = await TFRecordWriter.open(shardedFileName(basename, k, n));
    try {
      for (let i = k; i < records.length; i += n) await w.write(records[i]!);
      await w.close();
    } catch (err) {
      await w.abort();
      throw err;
    }
  }
  await removeOtherShardCounts(basename, n);
  return records.length;
}

/**
 * Replaces the table's rows with a checkpoint saved by either table type (or
 * Monolith), any shard count. Every file is read and checked before the
 * cluster changes: a missing or damaged file is a FormatError and the rows stay
 * as they were. Returns the entries restored.
 */
export async function restoreRedisTable(table: RedisEmbeddingTable, basename: string): Promise<number> {
  const files = await findShardFiles(basename);
  if (files.length === 0) throw new FormatError(`no checkpoint files ${basename}-NNNNN-of-NNNNN`, { file: basename });
  const staged: DecodedEntry[] = [];
  for (const f of files) await readEntryFile(f, table.dim, (e) => staged.push(e));
  const L = table.layout;
  const rows: RedisRow[] = staged.map((e) => {
    const row = new Float32Array(L.stride);
    row.set(e.num);
    L.segments.forEach((seg, k) => {
      if (!seg.optimizer.restore(row, seg.stateAt, e.opt?.dump?.[k])) seg.optimizer.init(row, seg.stateAt);
    });
    return { lo: e.lo, hi: e.hi, row, ts: e.ts >>> 0 };
  });
  await table.clear();
  for (let i = 0; i < rows.length; i += 1000) await table.putRows(rows.slice(i, i + 1000));
  return rows.length;
}
