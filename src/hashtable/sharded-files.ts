import { readdir, rm } from 'node:fs/promises';
import { basename as baseOf, dirname, join } from 'node:path';
import { FormatError } from '../errors.js';

/** Monolith's sharded file name: `<basename>-00001-of-00004`. */
export const shardedFileName = (basename: string, shard: number, nshards: number): string =>
  `${basename}-${String(shard).padStart(5, '0')}-of-${String(nshards).padStart(5, '0')}`;

/** Monolith's sharded metadata name (multi tables): `<basename>.meta-00001-of-00004`. */
export const shardedMetaFileName = (basename: string, shard: number, nshards: number): string =>
  `${basename}.meta-${String(shard).padStart(5, '0')}-of-${String(nshards).padStart(5, '0')}`;

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The shard files of `basename` in order; all of 0..N-1 must be there with one N. Empty list when none. */
export async function findShardFiles(basename: string): Promise<string[]> {
  const dir = dirname(basename);
  const re = new RegExp(`^${escapeRe(baseOf(basename))}-(\\d{5})-of-(\\d{5})$`);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const found = new Map<number, string>();
  let total = -1;
  for (const n of names) {
    const m = re.exec(n);
    if (!m) continue;
    const of = Number(m[2]);
    if (total >= 0 && of !== total) throw new FormatError(`checkpoint ${basename} mixes shard counts ${total} and ${of}`, { file: join(dir, n) });
    total = of;
    found.set(Number(m[1]), join(dir, n));
  }
  if (total < 0) return [];
  const files: string[] = [];
  for (let i = 0; i < total; i++) {
    const f = found.get(i);
    if (!f) throw new FormatError(`checkpoint ${basename} is missing shard ${i} of ${total}`, { file: shardedFileName(basename, i, total) });
    files.push(f);
  }
  return files;
}

/** Removes shard files of `basename` written with a shard count other than `keep` (left by an older save). */
export async function removeOtherShardCounts(basename: string, keep: number): Promise<void> {
  const dir = dirname(basename);
  const re = new RegExp(`^${escapeRe(baseOf(basename))}(?:\\.meta)?-\\d{5}-of-(\\d{5})$`);
  for (const n of await readdir(dir)) {
    const m = re.exec(n);
    if (m && Number(m[1]) !== keep) await rm(join(dir, n), { force: true });
  }
}
