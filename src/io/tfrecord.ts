import { from, type Observable } from 'rxjs';
import { ChunkedReader, openChunks, sourceName, type ByteSource, type ByteSourceOptions } from './chunked-reader.js';
import { AtomicFileWriter, type AtomicWriterOptions } from './atomic-file.js';
import { maskedCrc32c } from './crc32c.js';
import { CorruptRecordError, FormatError, MonolithError, TruncatedRecordError } from '../errors.js';

// TFRecord framing: u64 length | u32 masked crc32c(length) | data | u32 masked crc32c(data).
const HEADER = 12;
const FOOTER = 4;
/** Largest record we accept; anything bigger is taken for a garbage length. */
export const MAX_TFRECORD_BYTES = 1 << 30;

export interface TFRecordStats {
  /** Good records returned. */
  records: number;
  /** Corrupt records (or runs of garbage bytes) skipped; only counts with `skipCorrupt`. */
  corrupt: number;
}

export interface TFRecordReadOptions extends ByteSourceOptions {
  /** Skip records whose checksums fail instead of throwing, and count them in `stats`. */
  skipCorrupt?: boolean;
  /** Filled in while reading. */
  stats?: TFRecordStats;
}

/** Frames one record: header, payload and footer in a single buffer. */
export function encodeTFRecord(data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(HEADER + data.byteLength + FOOTER);
  out.writeUInt32LE(data.byteLength >>> 0, 0);
  out.writeUInt32LE(Math.floor(data.byteLength / 2 ** 32), 4);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(data, HEADER);
  out.writeUInt32LE(maskedCrc32c(data), HEADER + data.byteLength);
  return out;
}

/** Validates a 12-byte header and returns the payload length, or -1 if it is not a header. */
function headerLength(header: Buffer): number {
  if (header.readUInt32LE(8) !== maskedCrc32c(header.subarray(0, 8))) return -1;
  const lo = header.readUInt32LE(0);
  const hi = header.readUInt32LE(4);
  return hi === 0 ? lo : Number.MAX_SAFE_INTEGER;
}

/**
 * Errors of the byte stream itself (a missing file, gzip damage) as typed
 * errors naming the file and the (decompressed) offset reached; errors already
 * typed pass through.
 */
export function streamError(err: unknown, file: string, offset: number, compression?: string): unknown {
  if (err instanceof MonolithError || !(err instanceof Error)) return err;
  const code = (err as NodeJS.ErrnoException).code;
  const gz = compression === 'gzip' ? 'gzip stream' : 'stream';
  if (code === 'Z_BUF_ERROR' || /unexpected end of file/.test(err.message)) {
    return new TruncatedRecordError(`${gz} ends early (${err.message})`, { file, offset }, { cause: err });
  }
  if (typeof code === 'string' && code.startsWith('Z_')) return new CorruptRecordError(`damaged ${gz}: ${err.message}`, { file, offset }, { cause: err });
  return new FormatError(`cannot read: ${err.message}`, { file, offset }, { cause: err });
}

/**
 * Reads the records of a TFRecord file (or stream) one by one in constant memory.
 * Damage is a typed error naming the file and the byte offset of the record;
 * with `skipCorrupt` damaged records are skipped (re-synchronising on the next
 * valid header) and counted.
 */
export async function* readTFRecords(src: ByteSource, opts: TFRecordReadOptions = {}): AsyncGenerator<Buffer> {
  const file = sourceName(src);
  const stats = opts.stats ?? { records: 0, corrupt: 0 };
  const reader = new ChunkedReader(openChunks(src, opts));
  let resyncing = false;
  try {
    for (;;) {
      if (reader.available < HEADER && !(await reader.fill(HEADER))) {
        if (reader.available === 0) return;
        if (opts.skipCorrupt) {
          stats.corrupt++;
          return;
        }
        throw new TruncatedRecordError(`truncated record header (${reader.available} of ${HEADER} bytes)`, { file, offset: reader.offset });
      }
      const start = reader.offset;
      const len = headerLength(reader.peek(HEADER));
      if (len < 0 || len > MAX_TFRECORD_BYTES) {
        if (!opts.skipCorrupt) {
          const what = len < 0 ? 'length checksum mismatch' : `record length ${len} exceeds ${MAX_TFRECORD_BYTES}`;
          throw new CorruptRecordError(`corrupt TFRecord: ${what}`, { file, offset: start });
        }
        if (!resyncing) stats.corrupt++;
        resyncing = true;
        reader.skip(1);
        continue;
      }
      resyncing = false;
      const total = HEADER + len + FOOTER;
      if (reader.available < total && !(await reader.fill(total))) {
        if (opts.skipCorrupt) {
          stats.corrupt++;
          return;
        }
        throw new TruncatedRecordError(`truncated record: header says ${len} bytes, ${reader.available - HEADER} remain`, { file, offset: start });
      }
      reader.skip(HEADER);
      const data = reader.take(len);
      const crc = reader.take(FOOTER).readUInt32LE(0);
      if (crc !== maskedCrc32c(data)) {
        if (!opts.skipCorrupt) throw new CorruptRecordError('corrupt TFRecord: data checksum mismatch', { file, offset: start });
        stats.corrupt++;
        continue;
      }
      stats.records++;
      yield data;
    }
  } catch (err) {
    throw streamError(err, file, reader.offset, opts.compression);
  } finally {
    await reader.close();
  }
}

/** The records of a TFRecord source as an Observable; unsubscribing stops the read. */
export function tfrecordSource(src: ByteSource, opts: TFRecordReadOptions = {}): Observable<Buffer> {
  return from(readTFRecords(src, opts));
}

/** Writes TFRecord files atomically (temp file + rename on close). */
export class TFRecordWriter {
  private constructor(private readonly out: AtomicFileWriter) {}
  records = 0;

  static async open(path: string, opts: AtomicWriterOptions = {}): Promise<TFRecordWriter> {
    return new TFRecordWriter(await AtomicFileWriter.open(path, opts));
  }

  get path(): string {
    return this.out.path;
  }

  /** Appends one record; await the result when it is a promise (backpressure). */
  write(data: Uint8Array): void | Promise<void> {
    this.records++;
    return this.out.write(encodeTFRecord(data));
  }

  close(): Promise<void> {
    return this.out.close();
  }

  abort(): Promise<void> {
    return this.out.abort();
  }
}

/** Writes every record to `path` atomically; on any failure the old file stays. Returns the count. */
export async function writeTFRecords(
  path: string,
  records: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  opts: AtomicWriterOptions = {},
): Promise<number> {
  const w = await TFRecordWriter.open(path, opts);
  try {
    for await (const r of records) await w.write(r);
    await w.close();
    return w.records;
  } catch (err) {
    await w.abort();
    throw err;
  }
}

/** Reads a whole TFRecord file into memory (small files: fixtures, warmup files). */
export async function readAllTFRecords(src: ByteSource, opts: TFRecordReadOptions = {}): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const r of readTFRecords(src, opts)) out.push(r);
  return out;
}

