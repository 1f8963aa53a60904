import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AtomicFileWriter } from '../../io/atomic-file.js';

export interface WriteOnlyFileOptions {
  layoutFn: (obj: any) => string;
  /** Lines gathered before one write (default 1024). */
  batchSize?: number;
  /** Lines per part file (default 1e6). */
  partitionSize?: number;
  fileExt?: string;
  /** ms clock for the idle check. */
  now: () => number;
  /** Work to finish before this file's first part is opened (the previous close of the same key). */
  after?: Promise<unknown>;
  /** After each part is renamed into place; `final` for the part closed by close(). */
  onPartClosed?: (path: string, lines: number, final: boolean) => void;
}

const partName = (n: number, ext: string) => `part_${String(n).padStart(6, '0')}.${ext}`;

/** The partition after the highest `part_NNNNNN.<ext>` already in `dir` (0 when none). */
async function nextFreePartition(dir: string, ext: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  const re = new RegExp(`^part_(\\d{6,})\\.${ext.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  let next = 0;
  for (const name of names) {
    const m = re.exec(name);
    if (m) next = Math.max(next, Number(m[1]) + 1);
  }
  return next;
}

/**
 * WriteOnlyFileAndStat: the lines of one key (a directory) written as
 * `part_NNNNNN.<ext>` files of exactly `partitionSize` lines (the last may
 * be shorter), `batchSize` lines per write. Each part is written to a temp
 * name and renamed when full or closed; numbering continues after parts
 * already in the directory, so a reopened key never overwrites one.
 */
export class WriteOnlyFile {
  private buffer: string[] = [];
  private writer: AtomicFileWriter | undefined;
  private partition: number | undefined;
  private linesInPart = 0;
  private chain: Promise<void>;
  private failure: unknown;
  lastUpdateTime: number;
  /** Lines accepted so far. */
  lines = 0;
  private readonly batchSize: number;
  private readonly partitionSize: number;
  private readonly fileExt: string;

  constructor(
    readonly key: string,
    private readonly opts: WriteOnlyFileOptions,
  ) {
    this.batchSize = opts.batchSize ?? 1024;
    this.partitionSize = opts.partitionSize ?? 1_000_000;
    this.fileExt = opts.fileExt ?? 'txt';
    this.lastUpdateTime = opts.now();
    this.chain = Promise.resolve(opts.after).then(
      () => undefined,
      () => undefined,
    );
  }

  /** Lays `obj` out as one line; a full batch is handed to the file first. */
  write(obj: unknown): void {
    if (this.buffer.length >= this.batchSize) this.flush();
    if (obj === null || obj === undefined) return;
    this.buffer.push(this.opts.layoutFn(obj));
    this.lines += 1;
    this.lastUpdateTime = this.opts.now();
  }

  /** Hands the buffered lines to the file (asynchronously, in order). */
  flush(): void {
    if (this.buffer.length === 0) return;
    const lines = this.buffer;
    this.buffer = [];
    this.enqueue(() => this.writeLines(lines));
  }

  /** Flushes, closes the open part and resolves once everything is on disk; rejects with the first write error. */
  async close(): Promise<void> {
    this.flush();
    this.enqueue(() => this.closePart(true));
    await this.chain;
    if (this.failure !== undefined) throw this.failure;
  }

  /** Whether a line arrived in the last `idleMs` (24 h by default). */
  isAvailable(idleMs = 24 * 3600 * 1000): boolean {
    return this.opts.now() - this.lastUpdateTime < idleMs;
  }

  /** The first write error, if any. */
  get error(): unknown {
    return this.failure;
  }

  private enqueue(task: () => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      if (this.failure !== undefined) return;
      try {
        await task();
      } catch (err) {
        this.failure = err;
        await this.writer?.abort().catch(() => undefined);
        this.writer = undefined;
      }
    });
  }

  private async writeLines(lines: string[]): Promise<void> {
    let i = 0;
    while (i < lines.length) {
      if (!this.writer) {
        this.partition ??= await nextFreePartition(this.key, this.fileExt);
        this.writer = await AtomicFileWriter.open(join(this.key, partName(this.partition, this.fileExt)));
        this.linesInPart = 0;
      }
      const n = Math.min(lines.length - i, this.partitionSize - this.linesInPart);
      await this.writer.write(Buffer.from(`${lines.slice(i, i + n).join('\n')}\n`, 'utf8'));
      this.linesInPart += n;
      i += n;
      if (this.linesInPart >= this.partitionSize) await this.closePart(false);
    }
  }

  private async closePart(final: boolean): Promise<void> {
    const writer = this.writer;
    if (!writer) return;
    this.writer = undefined;
    await writer.close();
    this.partition! += 1;
    this.opts.onPartClosed?.(writer.path, this.linesInPart, final);
  }
}
