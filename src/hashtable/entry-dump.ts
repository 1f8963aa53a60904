import Long from 'long';
import { monolith } from '../proto.js';
import type { EmbeddingHashTable } from './embedding-hash-table.js';
import type { TableShard } from './table-shard.js';

export type EntryDumpMessage = monolith.hash_table.EntryDump.$Properties;

/**
 * One entry as Monolith's EntryDump: id (sfixed64), num (embedding, one tag
 * per float), opt (one SingleOptimizerDump per segment; absent for serving
 * rows) and last_update_ts_sec (always written, even 0, as Monolith does).
 */
export function entryToDump(table: EmbeddingHashTable, lo: number, hi: number, row: number, sh: TableShard, scratch?: Float32Array): EntryDumpMessage {
  const L = table.layout;
  const base = row * sh.stride;
  const num = Array.from(table.readEmbedding(sh, row, scratch));
  const msg: EntryDumpMessage = { id: Long.fromBits(lo | 0, hi | 0, false), num };
  if (!L.serving) msg.opt = { dump: L.segments.map((seg) => seg.optimizer.dump(sh.f32, base + seg.stateAt)) };
  msg.lastUpdateTsSec = Long.fromNumber(sh.u32[base + L.tsWord]!);
  return msg;
}

export const encodeEntryDump = (m: EntryDumpMessage): Uint8Array => monolith.hash_table.EntryDump.encode(m).finish();

export interface DecodedEntry {
  lo: number;
  hi: number;
  num: number[];
  opt: monolith.hash_table.OptimizerDump.$Properties | null | undefined;
  ts: number;
}

export function decodeEntryDump(bytes: Uint8Array): DecodedEntry {
  const m = monolith.hash_table.EntryDump.decode(bytes);
  const id = m.id as Long | number | null;
  const lo = id == null ? 0 : typeof id === 'number' ? id >>> 0 : id.low >>> 0;
  const hi = id == null ? 0 : typeof id === 'number' ? Math.floor(id / 2 ** 32) >>> 0 : id.high >>> 0;
  const t = m.lastUpdateTsSec as Long | number | null;
  const ts = t == null ? 0 : typeof t === 'number' ? t : t.toNumber();
  return { lo, hi, num: m.num ?? [], opt: m.opt, ts };
}

/** Writes a decoded entry into `table` (optimizer state from its dump when the kinds match, else initialised). */
export function putDecodedEntry(table: EmbeddingHashTable, e: DecodedEntry): void {
  const segs = table.layout.segments;
  const dumps = e.opt?.dump ?? [];
  table.putEntry(e.lo, e.hi, e.num, e.ts >>> 0, (f, base) => {
    segs.forEach((seg, k) => {
      if (!seg.optimizer.restore(f, base + seg.stateAt, dumps[k])) seg.optimizer.init(f, base + seg.stateAt);
    });
  });
}
