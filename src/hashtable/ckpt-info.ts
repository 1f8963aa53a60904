import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic-file.js';
import { printTextFormat } from '../io/text-format.js';

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
