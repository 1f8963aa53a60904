import test from 'ava';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { fileSource, FormatError, monolith, RecordParser, writeTFRecords, type ParseConfig } from 'monolith-ts';
import { tempDir } from '../../helpers.js';

// A 5-byte change to an ExampleBatch record (its batch_size) used to make the
// readers allocate the rows before checking them against the lists.

const config: ParseConfig = { sparse: [{ name: 'f', slot: 1 }] };

function exampleBatch(batchSize: number): Uint8Array {
  const feature = { fidV2List: { value: [1, 2] } };
  return monolith.io.proto.ExampleBatch.encode({
    namedFeatureList: [{ name: 'f', feature: [feature, feature] }],
    batchSize,
  }).finish();
}

const arrayBuffers = () => process.memoryUsage().arrayBuffers;

for (const decoder of ['fast', 'reference'] as const) {
  for (const n of [2 ** 27, 2 ** 30, 2 ** 31 - 1, 2 ** 32 - 1]) {
    test(`${decoder} decoder: batch_size ${n} in a ${exampleBatch(2).length}-byte record is a FormatError, nothing allocated`, (t) => {
      const parser = new RecordParser(config, { variant: 'example_batch', decoder });
      t.is(parser.parse([exampleBatch(2)]).rows, 2, 'the honest record decodes');
      const before = arrayBuffers();
      const err = t.throws(() => parser.parse([exampleBatch(n)]), { instanceOf: FormatError });
      t.is(err!.field, 'ExampleBatch.batch_size');
      t.regex(err!.message, /batch_size/);
      t.true(arrayBuffers() - before < 64 << 20, `grew by ${arrayBuffers() - before} bytes`);
    });
  }
}

test('fileSource: an ExampleBatch TFRecord with batch_size 2^30 fails with a FormatError naming the file', async (t) => {
  const dir = await tempDir();
  const path = join(dir, 'eb.tfrecord');
  await writeTFRecords(path, [exampleBatch(2), exampleBatch(2 ** 30)]);
  const before = arrayBuffers();
  const err = await t.throwsAsync(lastValueFrom(fileSource({ paths: path, framing: 'tfrecord', variant: 'example_batch', parse: config, batchSize: 4 }).pipe(toArray())), {
    instanceOf: FormatError,
  });
  t.true(err!.message.includes(path), err!.message);
  t.true(arrayBuffers() - before < 64 << 20);
});
