import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FormatError } from '../errors.js';
import { monolith } from '../proto.js';
import { parseTextFormat, printTextFormat } from '../io/text-format.js';

/** Name of the file that lists the exports an ExportSaverListener made. */
export const EXPORT_STATE_FILE = 'ExportSaverListenerState';
const TYPE = 'monolith.model_export.ServingModelState';

export type ServingModelState = monolith.model_export.ServingModelState;
export type ServingEntry = monolith.model_export.ServingEntry.$Properties;

/** Reads `<exportDirBase>/ExportSaverListenerState` (text format); a missing file is an empty state. */
export async function getExportSaverListenerState(exportDirBase: string): Promise<ServingModelState> {
  const file = join(exportDirBase, EXPORT_STATE_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return monolith.model_export.ServingModelState.create();
    throw new FormatError(`cannot read export state: ${(err as Error).message}`, { file }, { cause: err });
  }
  const parsed = parseTextFormat(TYPE, text, file);
  try {
    return monolith.model_export.ServingModelState.fromObject(parsed);
  } catch (err) {
    throw new FormatError(`not a ServingModelState: ${(err as Error).message}`, { file }, { cause: err });
  }
}

/** Writes the state as text to `<file>-tmp` and renames it over the state file. */
export async function overwriteExportSaverListenerState(exportDirBase: string, state: monolith.model_export.ServingModelState.$Properties): Promise<void> {
  await mkdir(exportDirBase, { recursive: true });
  const file = join(exportDirBase, EXPORT_STATE_FILE);
  const tmp = `${file}-tmp`;
  try {
    await writeFile(tmp, printTextFormat(TYPE, state));
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
