import { Session } from 'node:inspector';

/** Something that records a CPU profile between start() and stop(). */
export interface CpuProfiler {
  start(): void;
  /** Stops and returns the profile (Chrome DevTools `.cpuprofile` JSON). */
  stop(): Promise<object>;
  /** Releases the profiler. */
  dispose(): void;
}

/**
 * V8's sampling CPU profiler through an in-process `node:inspector` Session
 * (the JS thread this runs on; worker threads need their own).
 */
export class InspectorCpuProfiler implements CpuProfiler {
  private session: Session | undefined;
  private running = false;

  constructor(private readonly samplingIntervalUs?: number) {}

  private post(method: string, params?: object): Promise<any> {
    const session = this.session!;
    return new Promise((resolve, reject) =>
      session.post(method, params ?? {}, (err: Error | null, result?: unknown) => (err ? reject(err) : resolve(result))),
    );
  }

  start(): void {
    if (this.running) return;
    if (!this.session) {
      this.session = new Session();
      this.session.connect();
      void this.post('Profiler.enable');
      if (this.samplingIntervalUs) void this.post('Profiler.setSamplingInterval', { interval: this.samplingIntervalUs });
    }
    this.running = true;
    void this.post('Profiler.start');
  }

  async stop(): Promise<object> {
    if (!this.running) throw new Error('CPU profiler is not running');
    this.running = false;
    const { profile } = (await this.post('Profiler.stop')) as { profile: object };
    return profile;
  }

  dispose(): void {
    this.running = false;
    this.session?.disconnect();
    this.session = undefined;
  }
}
