import { lgHeader, RecordFileWriter, sortHeader, type RecordLayout } from '../../io/record-file.js';
import { ConfigError } from '../../errors.js';
import type { PlantedCtr, PlantedRow } from './planted-ctr.js';

export interface PlantedCtrFileOptions {
  /** Record header: Monolith's default sort-id header (true, default) or a lagrangex header (false). */
  sortId?: boolean;
  /** Data source name hashed into a lagrangex header. */
  source?: string;
  /** LineId uid of the first row (rows are numbered on). Default 0. */
  firstUid?: number;
}

/**
 * Writes `rows` of the stream (or the given rows) to a Monolith record file
 * of Instances (written to a temp file, then renamed). Returns the layout a
 * reader (file source, `train`, `eval`) needs for it.
 */
export async function writePlantedCtrFile(path: string, stream: PlantedCtr, rows: number | PlantedRow[], opts: PlantedCtrFileOptions = {}): Promise<RecordLayout> {
  if (typeof rows === 'number' && !(Number.isInteger(rows) && rows >= 0)) throw new ConfigError(`rows must be an integer >= 0, got ${rows}`);
  const sortId = opts.sortId ?? true;
  const w = await RecordFileWriter.open(path, sortId ? sortHeader(true, false, false) : lgHeader(opts.source));
  try {
    const n = typeof rows === 'number' ? rows : rows.length;
    for (let i = 0; i < n; i++) {
      const row = typeof rows === 'number' ? stream.sampleRow() : rows[i]!;
      await w.write(stream.toInstance(row, (opts.firstUid ?? 0) + i));
    }
    await w.close();
  } catch (e) {
    await w.abort();
    throw e;
  }
  return sortId ? { sortId: true } : { lagrangexHeader: true };
}
