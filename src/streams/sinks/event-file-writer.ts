import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { encodeTFRecord } from '../../io/tfrecord.js';
import { tensorflow } from '../../proto.js';

let opened = 0;

/**
 * A TensorFlow event file (`events.out.tfevents.<secs>.<host>.<pid>.<n>`):
 * TFRecord framing of `tensorflow.Event` protos, the first one carrying the
 * file version. Records are appended in order as they are written, so
 * TensorBoard sees a run while it trains (an event file is a growing log,
 * not a document: no temp file + rename).
 */
export class EventFileWriter {
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly file: FileHandle,
  ) {}

  static async open(logdir: string, opts: { wallTimeSec?: number } = {}): Promise<EventFileWriter> {
    await mkdir(logdir, { recursive: true });
    const secs = opts.wallTimeSec ?? Date.now() / 1000;
    const path = join(logdir, `events.out.tfevents.${Math.floor(secs)}.${hostname()}.${process.pid}.${opened++}`);
    const w = new EventFileWriter(path, await open(path, 'wx'));
    await w.write({ wallTime: secs, step: 0, fileVersion: 'brain.Event:2' });
    return w;
  }

  /** Appends one event; resolves once it is handed to the OS. */
  write(event: tensorflow.IEvent): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`${this.path} is closed`));
    const rec = encodeTFRecord(tensorflow.Event.encode(event).finish());
    this.chain = this.chain.then(async () => {
      if (this.failure) return;
      try {
        await this.file.write(rec);
      } catch (err) {
        this.failure = err;
      }
    });
    return this.chain.then(() => {
      if (this.failure) throw this.failure;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.chain;
    await this.file.sync().catch(() => undefined);
    await this.file.close();
    if (this.failure) throw this.failure;
  }
}
