import { asyncScheduler, type MonoTypeOperatorFunction, type SchedulerLike } from 'rxjs';
import { ConfigError } from '../../errors.js';
import { log } from '../../util/log.js';
import { passThrough } from '../hooks/pass-through.js';
import { defaultLayoutFn, defaultParseFn } from './metric-layout.js';
import { messagesOf } from './messages.js';
import { WriteOnlyFile } from './write-only-file.js';

export type FileCloseReason = 'rotated' | 'idle' | 'end';

export interface FileMetricSinkOptions<T> {
  /** The messages carried by one value (default: the value itself, a message or an array of them). */
  messages?: (value: T) => unknown;
  workerId?: number;
  /** Message → record (default: JSON text parsed). */
  parseFn?: (item: any) => any;
  /** Record → directory its line goes to (e.g. vepfsKeyFn). Required. */
  keyFn: (obj: any, workerId: number | undefined, baseName: string) => string;
  /** Record → line (default JSON; vepfsLayoutFn for the vepfs layout). */
  layoutFn?: (obj: any) => string;
  batchSize?: number;
  partitionSize?: number;
  baseName?: string;
  fileExt?: string;
  /** Files without a new line for this long are closed (default 24 h) … */
  idleCloseMs?: number;
  /** … checked at most this often, as lines arrive (default 10 min). */
  idleCheckMs?: number;
  /** Clock; default asyncScheduler. */
  scheduler?: SchedulerLike;
  /** Called when a part file is complete on disk. */
  onFileClosed?: (event: { key: string; path: string; lines: number; reason: FileCloseReason }) => void;
}

/**
 * FileMetricHook: writes every message of the stream as one line of a
 * partitioned text file under the directory `keyFn` picks (see
 * WriteOnlyFile), closes files idle for a day, and on completion (or error)
 * drains everything to disk before passing the completion on. Values pass
 * through unchanged.
 */
export function fileMetricSink<T>(opts: FileMetricSinkOptions<T>): MonoTypeOperatorFunction<T> {
  if (typeof opts.keyFn !== 'function') throw new ConfigError('fileMetricSink: keyFn is required (e.g. vepfsKeyFn)');
  const scheduler = opts.scheduler ?? asyncScheduler;
  const idleCloseMs = opts.idleCloseMs ?? 24 * 3600 * 1000;
  const idleCheckMs = opts.idleCheckMs ?? 600 * 1000;
  const baseName = opts.baseName ?? '/vepfs/jaguar_deepinsight_results';
  const parse = opts.parseFn ?? defaultParseFn;
  const extract = opts.messages ?? ((v: T) => v);

  return passThrough<T>((fail) => {
    const files = new Map<string, WriteOnlyFile>();
    /** Closes in flight, by key: a reopened key waits for its previous close. */
    const closing = new Map<string, Promise<void>>();
    let lastCheck = scheduler.now();

    const reasons = new WeakMap<WriteOnlyFile, FileCloseReason>();

    const open = (key: string): WriteOnlyFile => {
      const file: WriteOnlyFile = new WriteOnlyFile(key, {
        layoutFn: opts.layoutFn ?? defaultLayoutFn,
        batchSize: opts.batchSize,
        partitionSize: opts.partitionSize,
        fileExt: opts.fileExt,
        now: () => scheduler.now(),
        after: closing.get(key),
        onPartClosed: (path, lines, final) =>
          opts.onFileClosed?.({ key, path, lines, reason: final ? (reasons.get(file) ?? 'end') : 'rotated' }),
      });
      files.set(key, file);
      return file;
    };
    const closeFile = (file: WriteOnlyFile, why: FileCloseReason): Promise<void> => {
      files.delete(file.key);
      reasons.set(file, why);
      const done: Promise<void> = file.close().finally(() => {
        if (closing.get(file.key) === done) closing.delete(file.key);
      });
      closing.set(file.key, done);
      return done;
    };
    const closeAll = async () => {
      const pending = [...files.values()].map((f) => closeFile(f, 'end'));
      const results = await Promise.allSettled([...pending, ...closing.values()]);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    };

    return {
      next(value) {
        const msgs = messagesOf(extract(value));
        for (const msg of msgs) {
          const item = parse(msg);
          const key = opts.keyFn(item, opts.workerId, baseName);
          const file = files.get(key) ?? open(key);
          if (file.error !== undefined) throw file.error;
          file.write(item);
        }
        const now = scheduler.now();
        if (now - lastCheck > idleCheckMs) {
          for (const file of [...files.values()]) {
            if (!file.isAvailable(idleCloseMs)) {
              log.info(`fileMetricSink: closing ${file.key}, idle since ${new Date(file.lastUpdateTime).toISOString()}`);
              closeFile(file, 'idle').catch(fail);
            }
          }
          lastCheck = now;
        }
      },
      complete: closeAll,
      error: () => closeAll().catch((err: unknown) => log.warn(`fileMetricSink: ${String(err)}`)),
      teardown() {
        // unsubscribed early: still put what was written on disk
        if (files.size) void closeAll().catch((err: unknown) => log.warn(`fileMetricSink: ${String(err)}`));
      },
    };
  });
}
