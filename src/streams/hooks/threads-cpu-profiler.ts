import { Session } from 'node:inspector';
import { log } from '../../util/log.js';
import { InspectorCpuProfiler } from './cpu-profiler.js';

/** How long a worker may take to answer one profiler command. */
const REPLY_TIMEOUT_MS = 30_000;

/** One thread's V8 CPU profile (Chrome DevTools `.cpuprofile` JSON). */
export interface ThreadProfile {
  /** 'main', or `worker-<threadId>` for a worker thread. */
  thread: string;
  profile: object;
}

interface WorkerTarget {
  workerId: string;
  /** Resolves once Profiler.start was answered (or the worker left). */
  started?: Promise<unknown>;
}

type Reply = { result?: unknown; error?: { message: string } } | null;

/**
 * V8's CPU profiler on this thread and on every worker thread of the
 * process (the step workers that run the train steps): the main thread's
 * inspector session attaches to each worker through the inspector's
 * NodeWorker domain and drives that worker's own Profiler. Workers that
 * start while profiling are profiled from when they attach; a worker that
 * exits before `stop()` yields no profile.
 */
export class ThreadsCpuProfiler {
  private readonly main: InspectorCpuProfiler;
  private session: Session | undefined;
  private readonly workers = new Map<string, WorkerTarget>();
  private readonly pending = new Map<number, { sessionId: string; resolve: (r: Reply) => void }>();
  private nextId = 0;
  private running = false;

  constructor(private readonly samplingIntervalUs?: number) {
    this.main = new InspectorCpuProfiler(samplingIntervalUs);
  }

  private connect(): Session {
    if (this.session) return this.session;
    const s = new Session();
    s.connect();
    s.on('NodeWorker.attachedToWorker', (m: { params: { sessionId: string; workerInfo: { workerId: string } } }) => {
      const target: WorkerTarget = { workerId: m.params.workerInfo.workerId };
      this.workers.set(m.params.sessionId, target);
      if (this.running) this.startWorker(m.params.sessionId, target);
    });
    s.on('NodeWorker.detachedFromWorker', (m: { params: { sessionId: string } }) => {
      this.workers.delete(m.params.sessionId);
      for (const [id, p] of this.pending) {
        if (p.sessionId !== m.params.sessionId) continue;
        this.pending.delete(id);
        p.resolve(null);
      }
    });
    s.on('NodeWorker.receivedMessageFromWorker', (m: { params: { message: string } }) => {
      const msg = JSON.parse(m.params.message) as { id?: number } & NonNullable<Reply>;
      const p = msg.id === undefined ? undefined : this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id!);
      p.resolve(msg);
    });
    this.session = s;
    // Attach events for the running workers may arrive within this call.
    s.post('NodeWorker.enable', { waitForDebuggerOnStart: false });
    return s;
  }

  /** Sends one inspector command to a worker; resolves with its reply, or null when the worker went away or did not answer in time. */
  private send(sessionId: string, method: string, params: object = {}): Promise<Reply> {
    const id = ++this.nextId;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (!this.pending.delete(id)) return;
        log.warn(`profiler: worker session ${sessionId} did not answer ${method} within ${REPLY_TIMEOUT_MS} ms; its profile is left out`);
        resolve(null);
      }, REPLY_TIMEOUT_MS);
      this.pending.set(id, {
        sessionId,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      });
      this.session!.post('NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id, method, params }) }, (err) => {
        if (err) this.pending.get(id)?.resolve(null);
        if (err) this.pending.delete(id);
      });
    });
  }

  private startWorker(sessionId: string, target: WorkerTarget): void {
    target.started = (async () => {
      await this.send(sessionId, 'Profiler.enable');
      if (this.samplingIntervalUs) await this.send(sessionId, 'Profiler.setSamplingInterval', { interval: this.samplingIntervalUs });
      await this.send(sessionId, 'Profiler.start');
    })();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.main.start();
    this.connect();
    for (const [sessionId, target] of this.workers) this.startWorker(sessionId, target);
  }

  /** Stops every thread's profiler: the main thread's profile first, then one per worker thread still alive. */
  async stop(): Promise<ThreadProfile[]> {
    if (!this.running) throw new Error('CPU profiler is not running');
    this.running = false;
    const out: ThreadProfile[] = [{ thread: 'main', profile: await this.main.stop() }];
    const workers = await Promise.all(
      [...this.workers].map(async ([sessionId, target]) => {
        await target.started;
        target.started = undefined;
        const reply = await this.send(sessionId, 'Profiler.stop');
        const profile = (reply?.result as { profile?: object } | undefined)?.profile;
        return profile ? { thread: `worker-${target.workerId}`, profile } : undefined;
      }),
    );
    for (const w of workers) if (w) out.push(w);
    return out;
  }

  dispose(): void {
    this.running = false;
    this.main.dispose();
    for (const p of this.pending.values()) p.resolve(null);
    this.pending.clear();
    this.session?.disconnect();
    this.session = undefined;
    this.workers.clear();
  }
}
