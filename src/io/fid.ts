import { FidError } from '../errors.js';
import { warnFirstN } from '../util/log.js';

/**
 * Feature ids (FIDs) are unsigned 64-bit integers with the slot in the high bits:
 * v1 = `slot << 54 | id` (slots 1..1023), v2 = `slot << 48 | id` (slots 1..65535).
 * The API uses bigint so every bit is exact; hot paths work on the two uint32
 * words (`hi`, `lo`) and never go through a JS float.
 */
export const FID_V1_BITS = 54;
export const FID_V2_BITS = 48;
export const MASK_V1 = (1n << 54n) - 1n;
export const MASK_V2 = (1n << 48n) - 1n;
export const MAX_SLOT_V1 = (1 << (64 - FID_V1_BITS)) - 1; // 1023
export const MAX_SLOT_V2 = (1 << (64 - FID_V2_BITS)) - 1; // 65535

function checkId(id: bigint | number): bigint {
  if (typeof id === 'number' && !Number.isSafeInteger(id)) throw new FidError(`id ${id} is not an exact integer; pass a bigint`);
  return BigInt(id);
}

/** `slot << 54 | (id & MASK_V1)`. A slot outside 1..1023 is logged (as Monolith does) and wraps. */
export function makeFidV1(slot: number, id: bigint | number): bigint {
  if (!(slot >= 1 && slot <= MAX_SLOT_V1)) warnFirstN('fid-v1-slot', 10, `slot ${slot} does not fit fid v1 (1..${MAX_SLOT_V1})`);
  return BigInt.asUintN(64, (BigInt(slot) << 54n) | (checkId(id) & MASK_V1));
}

/** `slot << 48 | (id & MASK_V2)`; a slot outside 1..65535 is a FidError. */
export function makeFidV2(slot: number, id: bigint | number): bigint {
  if (!(Number.isInteger(slot) && slot >= 1 && slot <= MAX_SLOT_V2)) throw new FidError(`slot ${slot} does not fit fid v2 (1..${MAX_SLOT_V2})`);
  return (BigInt(slot) << 48n) | (checkId(id) & MASK_V2);
}

export const slotOfFidV1 = (fid: bigint): number => Number(BigInt.asUintN(64, fid) >> 54n);
export const slotOfFidV2 = (fid: bigint): number => Number(BigInt.asUintN(64, fid) >> 48n);
export const idOfFidV1 = (fid: bigint): bigint => fid & MASK_V1;
export const idOfFidV2 = (fid: bigint): bigint => fid & MASK_V2;

/** Slot from the high uint32 word of a v1 fid. */
export const slotOfHiV1 = (hi: number): number => hi >>> 22;
/** Slot from the high uint32 word of a v2 fid. */
export const slotOfHiV2 = (hi: number): number => hi >>> 16;

export function fidToWords(fid: bigint): { hi: number; lo: number } {
  const u = BigInt.asUintN(64, fid);
  return { hi: Number(u >> 32n), lo: Number(u & 0xffffffffn) };
}

export function wordsToFid(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}
