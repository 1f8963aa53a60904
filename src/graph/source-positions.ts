import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FormatError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-file.js';

/** A JSON value (what a source position may be). */
export type PositionValue = null | boolean | number | string | PositionValue[] | { [k: string]: PositionValue };

/** The positions file written next to each checkpoint: `model.ckpt-<step>.positions.json`. */
export const positionsFile = (dir: string, step: number): string => join(dir, `model.ckpt-${step}.positions.json`);

/**
 * Where each source of a pipeline stands, kept with the checkpoints so the
 * model and the read position move together (exactly-once into the model).
 *
 * A source (e.g. `kafkaSource({ positions })`, `fileSource({ positions })`)
 * calls `applied(name, position)` when a batch's step is done (its ack) and
 * reads `restored(name)` when it starts; the pipeline (`checkpoint.positions`)
 * writes the applied positions with every checkpoint — before the checkpoint's
 * index names it — and loads those of the checkpoint it restores. After each
 * checkpoint, `onSaved` listeners get the positions it holds (a Kafka source
 * commits them to the broker then).
 */
export class SourcePositions {
  private current_: Record<string, PositionValue> = {};
  private loaded: Record<string, PositionValue> = {};
  private readonly saved = new Set<(positions: Record<string, PositionValue>) => void>();

  /** Records the position just past everything applied to the model from source `name`. */
  applied(name: string, position: PositionValue): void {
    this.current_[name] = position;
  }

  /** The position of source `name` after the batches applied so far (undefined before any). */
  current(name: string): PositionValue | undefined {
    return this.current_[name];
  }

  /** The position of source `name` in the restored checkpoint, or undefined (start from the beginning). */
  restored(name: string): PositionValue | undefined {
    return this.loaded[name];
  }

  /** Calls `fn` after each checkpoint with the positions it holds; returns a function removing it. */
  onSaved(fn: (positions: Record<string, PositionValue>) => void): () => void {
    this.saved.add(fn);
    return () => this.saved.delete(fn);
  }

  /** Writes the applied positions for checkpoint `step` (call while no step runs). */
  async write(dir: string, step: number): Promise<Record<string, PositionValue>> {
    const snapshot = JSON.parse(JSON.stringify(this.current_)) as Record<string, PositionValue>;
    await writeFileAtomic(positionsFile(dir, step), `${JSON.stringify(snapshot)}\n`);
    return snapshot;
  }

  /** Tells the listeners that `snapshot` is now part of a durable checkpoint. */
  committed(snapshot: Record<string, PositionValue>): void {
    for (const fn of this.saved) fn(snapshot);
  }

  /**
   * Loads the positions of checkpoint `step` of `dir`. A checkpoint without a
   * positions file (written without them) restores no position.
   */
  async load(dir: string, step: number): Promise<void> {
    const file = positionsFile(dir, step);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new FormatError(`source positions are not JSON: ${(err as Error).message}`, { file });
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new FormatError('source positions must be a JSON object', { file });
    this.loaded = parsed as Record<string, PositionValue>;
    this.current_ = JSON.parse(text) as Record<string, PositionValue>;
  }

  /** Removes positions files of checkpoints not in `keep`. */
  static async prune(dir: string, keep: number[]): Promise<void> {
    const kept = new Set(keep);
    for (const n of await readdir(dir)) {
      const m = /^model\.ckpt-(\d+)\.positions\.json$/.exec(n);
      if (m && !kept.has(Number(m[1]))) await rm(join(dir, n), { force: true });
    }
  }
}
