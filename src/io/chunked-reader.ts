import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';

export type Compression = 'none' | 'gzip';

export interface ByteSourceOptions {
  /** Whole-stream compression of the input. Default 'none'. */
  compression?: Compression;
  /** Read size in bytes. Default 1 MiB. */
  chunkSize?: number;
}

/** A file path, '-' for standard input, or any readable byte stream. */
export type ByteSource = string | Readable;

export function sourceName(src: ByteSource): string {
  return typeof src === 'string' ? (src === '-' ? '<stdin>' : src) : '<stream>';
}

/** Opens a source as a stream of byte chunks, decompressing if asked. */
export function openChunks(src: ByteSource, opts: ByteSourceOptions = {}): Readable {
  const highWaterMark = opts.chunkSize ?? 1 << 20;
  let stream: Readable =
    typeof src !== 'string' ? src : src === '-' ? process.stdin : createReadStream(src, { highWaterMark });
  if (opts.compression === 'gzip') stream = stream.pipe(createGunzip({ chunkSize: highWaterMark }));
  return stream;
}

const EMPTY = Buffer.alloc(0);

/**
 * Pulls exact byte counts out of a stream of chunks in constant memory. `take`
 * hands out zero-copy views when the bytes sit inside one chunk. Callers check
 * `available` first and only `await fill(n)` when it is short, so records already
 * buffered are parsed without a trip through the event loop.
 */
export class ChunkedReader {
  private chunks: Buffer[] = [];
  private head = 0; // bytes of chunks[0] already consumed
  private buffered = 0;
  private done = false;
  private readonly iter: AsyncIterator<Buffer>;
  /** Bytes consumed from the start of the stream. */
  offset = 0;

  constructor(source: AsyncIterable<Buffer | Uint8Array | string>) {
    this.iter = (source as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  get available(): number {
    return this.buffered;
  }

  /** True when the stream has ended and every byte was consumed. */
  get atEnd(): boolean {
    return this.done && this.buffered === 0;
  }

  /** Buffers at least `n` bytes; false if the stream ends first. */
  async fill(n: number): Promise<boolean> {
    while (this.buffered < n) {
      if (this.done) return false;
      const r = await this.iter.next();
      if (r.done) {
        this.done = true;
        return this.buffered >= n;
      }
      const chunk = typeof r.value === 'string' ? Buffer.from(r.value) : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
      if (chunk.length === 0) continue;
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    return true;
  }

  /** Removes and returns the next `n` bytes; `available` must be at least `n`. */
  take(n: number): Buffer {
    if (n > this.buffered) throw new RangeError(`take(${n}) with only ${this.buffered} bytes buffered`);
    // Nothing may be buffered at all (a zero-length field right at a chunk boundary).
    if (n === 0) return EMPTY;
    this.buffered -= n;
    this.offset += n;
    const first = this.chunks[0]!;
    if (first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.head += n;
      if (this.head === first.length) {
        this.chunks.shift();
        this.head = 0;
      }
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let written = 0;
    while (written < n) {
      const c = this.chunks[0]!;
      const part = Math.min(c.length - this.head, n - written);
      c.copy(out, written, this.head, this.head + part);
      written += part;
      this.head += part;
      if (this.head === c.length) {
        this.chunks.shift();
        this.head = 0;
      }
    }
    return out;
  }

  /** Reads `n` bytes without consuming them (copies when they span chunks). */
  peek(n: number): Buffer {
    if (n === 0) return EMPTY;
    const first = this.chunks[0]!;
    if (first.length - this.head >= n) return first.subarray(this.head, this.head + n);
    const saved = { chunks: [...this.chunks], head: this.head, buffered: this.buffered, offset: this.offset };
    const out = Buffer.from(this.take(n));
    Object.assign(this, saved);
    return out;
  }

  /** Drops `n` bytes. */
  skip(n: number): void {
    this.take(n);
  }

  /** Stops reading the underlying stream. */
  async close(): Promise<void> {
    this.done = true;
    this.chunks = [];
    this.buffered = 0;
    await this.iter.return?.();
  }
}
