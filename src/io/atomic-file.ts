import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createGzip, type Gzip } from 'node:zlib';
import type { Compression } from './chunked-reader.js';

/** A sibling temp name for `path`: same directory, so the final rename is atomic. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

const TEMP_NAME = /^\..+\.tmp-(\d+)-[0-9a-z]+$/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temp files and directories (`.<name>.tmp-<pid>-<random>`) that
 * writers killed mid-write left in `dir`, and in its `*.assets` subdirectories.
 * Temps of live processes (a write in progress) are left alone. Returns the paths removed.
 */
export async function removeStaleTemps(dir: string): Promise<string[]> {
  const removed: string[] = [];
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return removed;
  }
  for (const n of names) {
    const m = TEMP_NAME.exec(n);
    if (m && !alive(Number(m[1]))) {
      await rm(join(dir, n), { recursive: true, force: true });
      removed.push(join(dir, n));
    } else if (!m && n.endsWith('.assets')) {
      removed.push(...(await removeStaleTemps(join(dir, n))));
    }
  }
  return removed;
}

/** Writes `data` to `path` through a temp file and a rename, creating directories. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export interface AtomicWriterOptions {
  compression?: Compression;
  /** Bytes gathered before one write to the file. Default 256 KiB. */
  bufferSize?: number;
}

/**
 * Streams bytes to a temp file next to `path` and renames it over `path` on
 * `close()`. Until then `path` keeps its previous content; `abort()` (or any
 * failure) removes the temp file, so no reader ever sees a half-written file.
 */
export class AtomicFileWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private finished = false;
  private failure: Error | undefined;
  /** Uncompressed bytes written so far. */
  bytesWritten = 0;

  private constructor(
    readonly path: string,
    private readonly tmp: string,
    private readonly file: WriteStream,
    private readonly sink: WriteStream | Gzip,
    private readonly bufferSize: number,
  ) {
    const fail = (err: Error) => {
      this.failure ??= err;
    };
    file.on('error', fail);
    sink.on('error', fail);
  }

  static async open(path: string, opts: AtomicWriterOptions = {}): Promise<AtomicFileWriter> {
    await mkdir(dirname(path), { recursive: true });
    const tmp = tempPathFor(path);
    const file = createWriteStream(tmp);
    await once(file, 'open');
    let sink: WriteStream | Gzip = file;
    if (opts.compression === 'gzip') {
      const gz = createGzip();
      gz.pipe(file);
      sink = gz;
    }
    return new AtomicFileWriter(path, tmp, file, sink, opts.bufferSize ?? 256 * 1024);
  }

  /** Queues bytes; returns a promise only when the caller should wait (backpressure). */
  write(bytes: Uint8Array): void | Promise<void> {
    if (this.finished) throw new Error(`${this.path}: write after close`);
    if (this.failure) throw this.failure;
    this.pending.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    this.pendingBytes += bytes.byteLength;
    this.bytesWritten += bytes.byteLength;
    if (this.pendingBytes >= this.bufferSize) return this.flush();
  }

  private flush(): void | Promise<void> {
    if (this.pendingBytes === 0) return;
    const block = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    if (!this.sink.write(block)) return once(this.sink, 'drain').then(() => undefined);
  }

  /** Flushes, closes and renames the temp file over the target. */
  async close(): Promise<void> {
    if (this.finished) return;
    try {
      await this.flush();
      this.finished = true;
      this.sink.end();
      await once(this.file, 'close');
      if (this.failure) throw this.failure;
      await rename(this.tmp, this.path);
    } catch (err) {
      await this.abort();
      throw err;
    }
  }

  /** Drops everything written; the target is left as it was. */
  async abort(): Promise<void> {
    this.finished = true;
    this.pending = [];
    if (!this.file.closed) {
      this.sink.destroy();
      this.file.destroy();
      await once(this.file, 'close').catch(() => undefined);
    }
    await rm(this.tmp, { force: true });
  }
}
