import { readFile, readdir } from 'node:fs/promises';
import { basename as baseOf, dirname, isAbsolute, join } from 'node:path';
import { FormatError } from '../errors.js';

/** TensorFlow's checkpoint index file name (a `CheckpointState` in text format). */
export const CKPT_INDEX = 'checkpoint';

/** What a checkpoint index names. */
export interface CheckpointIndex {
  /** Step of `model_checkpoint_path`: the newest complete checkpoint. */
  latest: number;
  /** Every listed step, oldest first (sorted by step, whatever order the file lists them in). */
  all: number[];
  /** `model_checkpoint_path` as a path prefix (relative entries resolved against the index's directory). */
  latestPath: string;
}

const STEP = /-(\d+)$/;

/** One `key: "value"` line of a CheckpointState, unescaped; undefined for other lines. */
function entry(line: string): { key: string; value: string } | undefined {
  const m = /^\s*([a-z_]+)\s*:\s*"((?:[^"\\]|\\.)*)"\s*$/.exec(line);
  if (!m) return undefined;
  return { key: m[1]!, value: m[2]!.replace(/\\(.)/g, '$1') };
}

/**
 * Reads `<dir>/checkpoint` in TensorFlow's format (`model_checkpoint_path` plus
 * `all_model_checkpoint_paths` oldest to newest) or in the newest-first order
 * older versions of this project wrote: the steps are sorted, and the latest is
 * always the one `model_checkpoint_path` names. Undefined when there is no index;
 * a FormatError naming the file and line when it cannot be read.
 */
export async function readCheckpointIndex(dir: string): Promise<CheckpointIndex | undefined> {
  const file = join(dir, CKPT_INDEX);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new FormatError(`cannot read checkpoint index: ${(err as Error).message}`, { file }, { cause: err });
  }
  let latestPath: string | undefined;
  const steps = new Set<number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.trim()) continue;
    const e = entry(line);
    if (!e) {
      if (/^\s*(all_model_checkpoint_timestamps|last_preserved_timestamp)\s*:/.test(line)) continue;
      throw new FormatError(`line ${i + 1} is not a CheckpointState field: ${JSON.stringify(line.slice(0, 80))}`, { file, field: 'CheckpointState' });
    }
    const m = STEP.exec(e.value);
    if (!m) throw new FormatError(`line ${i + 1}: "${e.value}" does not end in -<step>`, { file, field: e.key });
    if (e.key === 'model_checkpoint_path') latestPath = e.value;
    else if (e.key === 'all_model_checkpoint_paths') steps.add(Number(m[1]));
    else throw new FormatError(`line ${i + 1}: unknown field ${e.key}`, { file, field: e.key });
  }
  if (latestPath === undefined) throw new FormatError('checkpoint index names no model_checkpoint_path', { file, field: 'model_checkpoint_path' });
  const latest = Number(STEP.exec(latestPath)![1]);
  steps.add(latest);
  return { latest, all: [...steps].sort((a, b) => a - b), latestPath: isAbsolute(latestPath) ? latestPath : join(dir, latestPath) };
}

/** Text of a checkpoint index in TensorFlow's order: the latest, then every kept checkpoint oldest to newest. */
export function checkpointIndexText(basename: string, steps: readonly number[], latest: number): string {
  const all = [...new Set([...steps, latest])].sort((a, b) => a - b);
  return `model_checkpoint_path: "${basename}-${latest}"\n${all.map((s) => `all_model_checkpoint_paths: "${basename}-${s}"\n`).join('')}`;
}

/**
 * The prefix (`<dir>/<name>-<step>`) of the newest complete checkpoint of
 * `basename`. With an index file, only what it names counts: a directory it
 * does not name (a save cut short) is ignored. Without one (tables saved by the
 * listeners alone), the newest step whose `ckpt.info-<step>` — written after
 * every table file — exists.
 */
export async function latestIndexedPrefix(basename: string): Promise<string | undefined> {
  const dir = dirname(basename);
  const name = baseOf(basename);
  const idx = await readCheckpointIndex(dir);
  if (idx) return join(dir, `${name}-${idx.latest}`);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return undefined;
  }
  const set = new Set(names);
  let best = -1;
  for (const n of names) {
    const m = /^ckpt\.info-(\d+)$/.exec(n);
    if (m && Number(m[1]) > best && set.has(`${name}-${m[1]}.assets`)) best = Number(m[1]);
  }
  return best < 0 ? undefined : join(dir, `${name}-${best}`);
}
