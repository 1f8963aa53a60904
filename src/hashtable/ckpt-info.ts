import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FormatError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { parseTextFormat, printTextFormat } from '../io/text-format.js';

/** Per-feature (table) and per-slot entry counts, as Monolith's CkptInfo. */
export interface CkptInfoCounts {
  featureCounts: Record<string, number>;
  slotCounts?: Record<number, number>;
}

/** Text of `ckpt.info-<step>`: the CkptInfo message in protobuf text format (Monolith writes `str(info)`). */
export function ckptInfoText(c: CkptInfoCounts): string {
  return printTextFormat('monolith.CkptInfo', { featureCounts: c.featureCounts, slotCounts: c.slotCounts ?? {} });
}

/** Writes `<dir>/ckpt.info-<step>` atomically; returns its path. */
export async function writeCkptInfo(dir: string, step: number, c: CkptInfoCounts): Promise<string> {
  const path = join(dir, `ckpt.info-${step}`);
  await writeFileAtomic(path, ckptInfoText(c));
  return path;
}

/**
 * Reads `<dir>/ckpt.info-<step>`; undefined when there is none. Counts must be
 * non-negative integers; anything unreadable is a FormatError naming the file
 * (and line, from the text-format parser).
 */
export async function readCkptInfo(dir: string, step: number): Promise<CkptInfoCounts | undefined> {
  const file = join(dir, `ckpt.info-${step}`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new FormatError(`cannot read ckpt.info: ${(err as Error).message}`, { file }, { cause: err });
  }
  const msg = parseTextFormat('monolith.CkptInfo', text, file) as { featureCounts?: Record<string, unknown>; slotCounts?: Record<string, unknown> };
  const num = (v: unknown, field: string): number => {
    const n = Number(typeof v === 'object' && v !== null ? String(v) : v);
    if (!Number.isSafeInteger(n) || n < 0) throw new FormatError(`count ${String(v)} is not a plausible entry count`, { file, field });
    return n;
  };
  const featureCounts: Record<string, number> = {};
  for (const [k, v] of Object.entries(msg.featureCounts ?? {})) featureCounts[k] = num(v, `feature_counts[${k}]`);
  const slotCounts: Record<number, number> = {};
  for (const [k, v] of Object.entries(msg.slotCounts ?? {})) slotCounts[Number(k)] = num(v, `slot_counts[${k}]`);
  return { featureCounts, slotCounts };
}
