import test from 'ava';
import { join } from 'node:path';
import { readAllTFRecords, readRecordFile, RecordFileWriter, sortHeader, writeTFRecords } from 'monolith-ts';
import { tempDir } from '../helpers.js';

const PAYLOADS = ['first', '', 'a longer third payload', '', 'x'];

test('record files read whole whatever the read size: a zero-length sort id or payload right at a chunk boundary is not a read past the end', async (t) => {
  const path = join(await tempDir(), 'data.pb');
  // Monolith's default header: an empty sort id, i.e. a 0 length with no bytes after it.
  const w = await RecordFileWriter.open(path, sortHeader(true, false, false));
  for (const p of PAYLOADS) await w.write(Buffer.from(p));
  await w.close();
  for (let chunkSize = 1; chunkSize <= 64; chunkSize++) {
    const got: string[] = [];
    for await (const r of readRecordFile(path, { sortId: true, chunkSize })) got.push(r.payload.toString());
    t.deepEqual(got, PAYLOADS, `read ${chunkSize} bytes at a time`);
  }
});

test('TFRecord files with empty records read whole whatever the read size', async (t) => {
  const path = join(await tempDir(), 'data.tfrecord');
  await writeTFRecords(path, PAYLOADS.map((p) => Buffer.from(p)));
  for (let chunkSize = 1; chunkSize <= 64; chunkSize++) {
    t.deepEqual((await readAllTFRecords(path, { chunkSize })).map((b) => b.toString()), PAYLOADS, `read ${chunkSize} bytes at a time`);
  }
});
