import test from 'ava';
import { fidToWords, makeFidV1, makeFidV2, MAX_SLOT_V1, MAX_SLOT_V2, slotOfFidV1, slotOfFidV2, slotOfHiV1, slotOfHiV2, wordsToFid, idOfFidV2 } from '../../src/io/fid.js';
import { FidError } from '../../src/errors.js';

test('fid v1 is slot << 54 | id, exact over 64 bits', (t) => {
  t.is(makeFidV1(1, 5), (1n << 54n) | 5n);
  t.is(makeFidV1(1023, (1n << 54n) - 1n), 0xffffffffffffffffn);
  t.is(makeFidV1(3, (1n << 60n) | 7n), (3n << 54n) | 7n, 'id bits above 54 are masked off');
  t.is(slotOfFidV1(makeFidV1(555, 123456789012345n)), 555);
  t.is(MAX_SLOT_V1, 1023);
});

test('fid v2 is slot << 48 | id; slots outside 1..65535 are rejected', (t) => {
  t.is(makeFidV2(65535, 1), (65535n << 48n) | 1n);
  t.is(slotOfFidV2(makeFidV2(200, 42)), 200);
  t.is(idOfFidV2(makeFidV2(7, 0xabcdef123456n)), 0xabcdef123456n);
  t.is(MAX_SLOT_V2, 65535);
  t.throws(() => makeFidV2(0, 1), { instanceOf: FidError, message: /slot 0/ });
  t.throws(() => makeFidV2(65536, 1), { instanceOf: FidError });
  t.throws(() => makeFidV2(1, 2 ** 60), { instanceOf: FidError, message: /not an exact integer/ });
});

test('fid v1 with a slot beyond 1023 warns and wraps instead of throwing', (t) => {
  t.is(makeFidV1(1024, 1), 1n);
});

test('hi/lo words round trip and give the slot without BigInt', (t) => {
  const fid = makeFidV1(777, 0x2a_1234_5678n);
  const { hi, lo } = fidToWords(fid);
  t.is(wordsToFid(hi, lo), fid);
  t.is(slotOfHiV1(hi), 777);
  const f2 = makeFidV2(60000, 99);
  t.is(slotOfHiV2(fidToWords(f2).hi), 60000);
  t.is(wordsToFid(0xffffffff, 0xffffffff), 0xffffffffffffffffn);
});
