import test from 'ava';
import { readFile } from 'node:fs/promises';
import { REAL_WARMUP } from '../helpers.js';
import { Rng } from '../../src/util/random.js';
import { crc32c, maskCrc, maskedCrc32c, unmaskCrc } from '../../src/io/crc32c.js';

test('CRC32C check value of "123456789" is 0xE3069283', (t) => {
  t.is(crc32c(Buffer.from('123456789')), 0xe3069283);
});

test('CRC32C of 32 zero bytes is the RFC 3720 test vector 0x8A9136AA', (t) => {
  t.is(crc32c(new Uint8Array(32)), 0x8a9136aa);
});

test('mask rotates right by 15 and adds 0xA282EAD8; unmask inverts it', (t) => {
  const crc = 0xe3069283;
  const rotated = ((crc >>> 15) | (crc << 17)) >>> 0;
  t.is(maskCrc(crc), (rotated + 0xa282ead8) >>> 0);
  for (const v of [0, 1, 0xffffffff, 0x80000000, 0x12345678, crc]) t.is(unmaskCrc(maskCrc(v)), v);
});

test('masked CRCs match the ones TensorFlow wrote into a real TFRecord file', async (t) => {
  const file = await readFile(REAL_WARMUP);
  const len = Number(file.readBigUInt64LE(0));
  t.is(maskedCrc32c(file.subarray(0, 8)), file.readUInt32LE(8));
  t.is(maskedCrc32c(file.subarray(12, 12 + len)), file.readUInt32LE(12 + len));
});

test('the JS path for short inputs and the native path agree at every length', async (t) => {
  const { crc32c: native } = await import('@node-rs/crc32');
  const rng = new Rng(9);
  for (let n = 0; n < 300; n++) {
    const b = Buffer.from(Array.from({ length: n }, () => rng.int(0, 255)));
    t.is(crc32c(b), native(b) >>> 0, `length ${n}`);
  }
});
