import { crc32c as nativeCrc32c } from '@node-rs/crc32';

const MASK_DELTA = 0xa282ead8;

/** CRC-32C (Castagnoli) of `data`, as an unsigned 32-bit number. */
export function crc32c(data: Uint8Array): number {
  return nativeCrc32c(Buffer.from(data.buffer, data.byteOffset, data.byteLength)) >>> 0;
}

/** TFRecord's masked CRC: rotate right by 15 bits, then add a constant (mod 2^32). */
export function maskCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;
}

export function unmaskCrc(masked: number): number {
  const rot = (masked - MASK_DELTA) >>> 0;
  return ((rot >>> 17) | (rot << 15)) >>> 0;
}

export function maskedCrc32c(data: Uint8Array): number {
  return maskCrc(crc32c(data));
}
