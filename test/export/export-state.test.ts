import test from 'ava';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EXPORT_STATE_FILE, getExportSaverListenerState, overwriteExportSaverListenerState } from '../../src/export/export-state.js';
import { FormatError } from '../../src/errors.js';
import { tempDir } from '../helpers.js';

test('basic: a state written is the state read back (export_state_utils_test)', async (t) => {
  const dir = join(await tempDir(), 'nested', 'base');
  const state = { entries: [{ exportDir: 'a', globalStep: 1 }] };
  await overwriteExportSaverListenerState(dir, state);
  const back = await getExportSaverListenerState(dir);
  t.deepEqual(back.toJSON(), { entries: [{ exportDir: 'a', globalStep: '1' }] });
  t.is(await readFile(join(dir, EXPORT_STATE_FILE), 'utf8'), 'entries {\n  export_dir: "a"\n  global_step: 1\n}\n');
  t.deepEqual(await readdir(dir), [EXPORT_STATE_FILE], 'the -tmp file was renamed away');
});

test('a missing state file is an empty state', async (t) => {
  const state = await getExportSaverListenerState(await tempDir());
  t.deepEqual(state.entries, []);
});

test('a damaged state file is a FormatError naming the file', async (t) => {
  const dir = await tempDir();
  await writeFile(join(dir, EXPORT_STATE_FILE), 'entries { export_dri: "x" }');
  const err = await t.throwsAsync(getExportSaverListenerState(dir), { instanceOf: FormatError });
  t.true(err!.message.includes(join(dir, EXPORT_STATE_FILE)));
});
