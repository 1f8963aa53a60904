import test from 'ava';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cEscape, parseTextFormat, printTextFormat, pythonFloatRepr, shortestFloat32 } from '../../src/io/text-format.js';
import { monolith, tensorflow } from '../../src/proto.js';
import { FormatError } from '../../src/errors.js';
import { MONOLITH_ASSETS } from '../helpers.js';

test('ServingModelState prints as Python text_format does', (t) => {
  const text = printTextFormat('monolith.model_export.ServingModelState', {
    entries: [{ exportDir: '/path/to/export/1622716114', globalStep: 1000 }, { exportDir: 'b' }],
  });
  t.is(text, 'entries {\n  export_dir: "/path/to/export/1622716114"\n  global_step: 1000\n}\nentries {\n  export_dir: "b"\n}\n');
});

test('the parser takes the whole grammar: separators, lists, comments, escapes, radixes, <> and joined strings', (t) => {
  const src = `# a comment
entries: { export_dir: 'a\\'b' "c\\x41\\101\\n" global_step: 0x10 ; }
entries < export_dir: "\\u00e9" global_step: 010, >
entries [ ]
entries { global_step: 1 global_step: 2 }`;
  const msg = monolith.model_export.ServingModelState.fromObject(parseTextFormat('monolith.model_export.ServingModelState', src));
  t.is(msg.entries.length, 3);
  t.is(msg.entries[0]!.exportDir, "a'bcAA\n");
  t.is(Number(msg.entries[0]!.globalStep), 16);
  t.is(msg.entries[1]!.exportDir, 'é');
  t.is(Number(msg.entries[1]!.globalStep), 8);
  t.is(Number(msg.entries[2]!.globalStep), 2, 'a repeated singular scalar: last one wins');
});

test('unknown fields and bad values are FormatErrors with line and column', (t) => {
  const T = 'monolith.model_export.ServingModelState';
  t.throws(() => parseTextFormat(T, 'entries {\n  nope: 1\n}', 'state.txt'), { instanceOf: FormatError, message: /state\.txt: text format, line 2 column 3: .*no field named "nope"/ });
  t.throws(() => parseTextFormat(T, 'entries { global_step: "x" }'), { instanceOf: FormatError, message: /expected an integer/ });
  t.throws(() => parseTextFormat(T, 'entries { global_step: 99999999999999999999 }'), { instanceOf: FormatError, message: /out of range/ });
  t.throws(() => parseTextFormat(T, 'entries { export_dir: "unterminated }'), { instanceOf: FormatError, message: /unterminated|newline/ });
  t.throws(() => parseTextFormat(T, 'entries {'), { instanceOf: FormatError, message: /missing "}"/ });
});

test("Monolith's example_batch.pbtxt parses, encodes to the reference bytes and prints back identically", async (t) => {
  const text = await readFile(join(MONOLITH_ASSETS, 'example_batch.pbtxt'), 'utf8');
  const framed = await readFile(join(MONOLITH_ASSETS, 'derived', 'monolith_example_batch_from_pbtxt.bin'));
  const msg = monolith.io.proto.ExampleBatch.fromObject(parseTextFormat('monolith.io.proto.ExampleBatch', text));
  t.is(msg.batchSize, 51);
  const bytes = Buffer.from(monolith.io.proto.ExampleBatch.encode(msg).finish());
  t.true(bytes.equals(framed.subarray(16)), 'encoding equals the bytes Python protobuf wrote');
  t.is(printTextFormat('monolith.io.proto.ExampleBatch', monolith.io.proto.ExampleBatch.decode(bytes)), text);
});

test('maps, enums, bytes and proto3 defaults print like Python', (t) => {
  const req: tensorflow.serving.PredictRequest.$Properties = {
    modelSpec: { name: 'm', version: { value: 3 } },
    inputs: { z: { dtype: tensorflow.DataType.DT_STRING, stringVal: [Buffer.from([0, 0x22, 0xff])] }, a: { dtype: tensorflow.DataType.DT_FLOAT, floatVal: [0.1, 1, 1e-5, 3e16] } },
  };
  t.is(
    printTextFormat('tensorflow.serving.PredictRequest', req),
    [
      'model_spec {', '  name: "m"', '  version {', '    value: 3', '  }', '}',
      'inputs {', '  key: "a"', '  value {', '    dtype: DT_FLOAT', '    float_val: 0.1', '    float_val: 1.0', '    float_val: 1e-05', '    float_val: 3e+16', '  }', '}',
      'inputs {', '  key: "z"', '  value {', '    dtype: DT_STRING', '    string_val: "\\000\\"\\377"', '  }', '}', '',
    ].join('\n'),
  );
  const back = parseTextFormat('tensorflow.serving.PredictRequest', printTextFormat('tensorflow.serving.PredictRequest', req));
  const decoded = tensorflow.serving.PredictRequest.fromObject(back);
  t.deepEqual([...decoded.inputs!.z!.stringVal![0]!], [0, 0x22, 0xff]);
  t.is(decoded.inputs.a!.dtype, tensorflow.DataType.DT_FLOAT);
});

test('float formatting follows Python repr and ToShortestFloat', (t) => {
  t.is(pythonFloatRepr(1), '1.0');
  t.is(pythonFloatRepr(0.1), '0.1');
  t.is(pythonFloatRepr(1e-5), '1e-05');
  t.is(pythonFloatRepr(123456789012345678), '1.2345678901234568e+17');
  t.is(pythonFloatRepr(1e16), '1e+16');
  t.is(pythonFloatRepr(9999999999999998), '9999999999999998.0');
  t.is(pythonFloatRepr(-0.0001), '-0.0001');
  t.is(pythonFloatRepr(Infinity), 'inf');
  t.is(pythonFloatRepr(NaN), 'nan');
  t.is(shortestFloat32(Math.fround(0.1)), 0.1);
  t.is(shortestFloat32(Math.fround(-0.23618615)), -0.23618615);
  t.is(cEscape(Buffer.from('a\tb\'\\')), "a\\tb\\'\\\\");
});

test('ckpt.info: integer map keys print in numeric order, string keys in code-point order, as Python text_format (sorted())', async (t) => {
  const { ckptInfoText, readCkptInfo, writeCkptInfo } = await import('monolith-ts');
  const counts = { featureCounts: { 'slot_9': 1, 'slot_10': 2, B: 3 }, slotCounts: { 1024: 5, 128: 6, 2: 7 } };
  const text = ckptInfoText(counts);
  // What Python prints for the same CkptInfo.
  t.is(
    text,
    [
      ...[[2, 7], [128, 6], [1024, 5]].map(([k, v]) => `slot_counts {\n  key: ${k}\n  value: ${v}\n}`),
      ...[['B', 3], ['slot_10', 2], ['slot_9', 1]].map(([k, v]) => `feature_counts {\n  key: "${k}"\n  value: ${v}\n}`),
    ].join('\n') + '\n',
  );
  const dir = await (await import('../helpers.js')).tempDir();
  await writeCkptInfo(dir, 3, counts);
  t.deepEqual(await readCkptInfo(dir, 3), { featureCounts: { slot_9: 1, slot_10: 2, B: 3 }, slotCounts: { 2: 7, 128: 6, 1024: 5 } });
  const { writeFile } = await import('node:fs/promises');
  await writeFile(join(dir, 'ckpt.info-4'), 'feature_counts { key: "a" value: -3 }\n');
  await t.throwsAsync(readCkptInfo(dir, 4), { instanceOf: FormatError, message: /ckpt\.info-4/ });
});
