import { Readable } from 'node:stream';
import { lazyRequire } from '../util/lazy-require.js';
import { FormatError } from '../errors.js';
import { maskedCrc32c } from '../io/crc32c.js';
import { encodeTFRecord, readTFRecords } from '../io/tfrecord.js';

const snappy = lazyRequire<typeof import('snappy')>('snappy');

/**
 * TensorFlow's SNAPPY record-file compression (io::RecordWriterOptions::SNAPPY_COMPRESSION,
 * which Monolith's MultiHashTable save op uses for its data files): the
 * TFRecord byte stream is cut into chunks of at most 256 KiB (TF's default
 * input buffer, also the largest chunk its reader accepts), each written as a
 * 4-byte big-endian length followed by the raw Snappy block of the chunk.
 */
export const TF_SNAPPY_CHUNK = 256 * 1024;

export function compressTFSnappy(stream: Uint8Array, chunk = TF_SNAPPY_CHUNK): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < stream.byteLength; at += chunk) {
    const block = snappy().compressSync(Buffer.from(stream.buffer, stream.byteOffset + at, Math.min(chunk, stream.byteLength - at)));
    const len = Buffer.allocUnsafe(4);
    len.writeUInt32BE(block.byteLength, 0);
    parts.push(len, block);
  }
  return Buffer.concat(parts);
}

/** The uncompressed length a raw Snappy block starts with (a varint), read before anything is allocated. */
function snappyLength(buf: Buffer, at: number, end: number): number | undefined {
  let v = 0;
  for (let shift = 0; shift < 35 && at < end; shift += 7) {
    const c = buf[at++]!;
    v += (c & 0x7f) * 2 ** shift;
    if (c < 0x80) return v;
  }
  return undefined;
}

export function uncompressTFSnappy(data: Uint8Array, file: string): Buffer {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const parts: Buffer[] = [];
  let at = 0;
  while (at < buf.byteLength) {
    if (at + 4 > buf.byteLength) throw new FormatError(`snappy stream ends inside a block length at byte ${at}`, { file, offset: at });
    const n = buf.readUInt32BE(at);
    if (at + 4 + n > buf.byteLength) throw new FormatError(`snappy block of ${n} bytes at byte ${at} runs past the end of the file (${buf.byteLength} bytes)`, { file, offset: at });
    const claimed = snappyLength(buf, at + 4, at + 4 + n);
    if (claimed === undefined || claimed > TF_SNAPPY_CHUNK) {
      throw new FormatError(`snappy block at byte ${at} claims ${claimed ?? 'an unreadable'} uncompressed bytes; blocks hold at most ${TF_SNAPPY_CHUNK}`, { file, offset: at + 4 });
    }
    try {
      parts.push(snappy().uncompressSync(buf.subarray(at + 4, at + 4 + n)) as Buffer);
    } catch (err) {
      throw new FormatError(`damaged snappy block at byte ${at}: ${(err as Error).message}`, { file, offset: at }, { cause: err });
    }
    at += 4 + n;
  }
  return Buffer.concat(parts);
}

/** True when `data` starts like a plain TFRecord stream (a header whose length checksum holds) or is empty. */
export function looksLikePlainTFRecords(data: Uint8Array): boolean {
  if (data.byteLength === 0) return true;
  if (data.byteLength < 12) return false;
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return b.readUInt32LE(8) === maskedCrc32c(b.subarray(0, 8));
}

/** The framed TFRecord bytes of `records`, compressed or not. */
export function encodeRecordFile(records: readonly Uint8Array[], compression: 'snappy' | 'none'): Buffer {
  const plain = Buffer.concat(records.map((r) => encodeTFRecord(r)));
  return compression === 'snappy' ? compressTFSnappy(plain) : plain;
}

/** The records of a data file written with SNAPPY compression (or, recognised by its header checksum, without). */
export async function decodeRecordFile(data: Uint8Array, file: string): Promise<Buffer[]> {
  const plain = looksLikePlainTFRecords(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : uncompressTFSnappy(data, file);
  const out: Buffer[] = [];
  try {
    for await (const rec of readTFRecords(Readable.from([plain]))) out.push(rec);
  } catch (err) {
    throw new FormatError(`damaged record stream: ${(err as Error).message}`, { file }, { cause: err });
  }
  return out;
}
