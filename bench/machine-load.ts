/**
 * CPU accounting for benchmarks on a shared machine: how much CPU this process
 * used (all threads, and its main thread alone), how much every other process
 * used over the same interval, and the hypervisor's steal time, so a figure
 * can be read against the load it was taken under. Linux /proc; elsewhere the
 * /proc-based fields are NaN and only this process's CPU time is measured.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

/** Clock ticks per second of /proc's CPU counters (USER_HZ; 100 on every Linux build Node runs on). */
const HZ = 100;

export interface CpuSnapshot {
  wallMs: number;
  /** This process, every thread (process.cpuUsage). */
  ownMs: number;
  /** This process's main thread (/proc/self/task/<pid>/stat). */
  mainThreadMs: number;
  /** Machine-wide busy time (every CPU, every process) and steal, from /proc/stat. */
  machineBusyMs: number;
  stealMs: number;
}

export interface CpuUse {
  wallMs: number;
  /** CPU cores this process kept busy on average (all threads). */
  ownCores: number;
  mainThreadCores: number;
  /** CPU cores other processes kept busy meanwhile (machine busy − ours). */
  otherCores: number;
  /** Cores' worth of time the hypervisor gave to other guests. */
  stealCores: number;
  /** Own CPU seconds (all threads) over the interval. */
  ownCpuSec: number;
  mainThreadCpuSec: number;
}

function readOr(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function mainThreadMs(): number {
  const stat = readOr(`/proc/self/task/${process.pid}/stat`);
  if (!stat) return Number.NaN;
  // Fields after the ")" that closes the command name: state is field 3, utime 14, stime 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / HZ;
}

function machineMs(): { busy: number; steal: number } {
  const line = readOr('/proc/stat')?.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return { busy: Number.NaN, steal: Number.NaN };
  // user nice system idle iowait irq softirq steal guest guest_nice
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = v[0]! + v[1]! + v[2]! + v[5]! + v[6]!;
  return { busy: (busy * 1000) / HZ, steal: ((v[7] ?? 0) * 1000) / HZ };
}

export function cpuSnapshot(): CpuSnapshot {
  const u = process.cpuUsage();
  const m = machineMs();
  return { wallMs: performance.now(), ownMs: (u.user + u.system) / 1000, mainThreadMs: mainThreadMs(), machineBusyMs: m.busy, stealMs: m.steal };
}

export function cpuUse(a: CpuSnapshot, b: CpuSnapshot = cpuSnapshot()): CpuUse {
  const wall = b.wallMs - a.wallMs;
  const own = b.ownMs - a.ownMs;
  const main = b.mainThreadMs - a.mainThreadMs;
  // /proc/stat ticks are coarse (10 ms per CPU): never report a negative share for the others.
  const others = Math.max(0, b.machineBusyMs - a.machineBusyMs - own);
  return {
    wallMs: wall,
    ownCores: own / wall,
    mainThreadCores: main / wall,
    otherCores: others / wall,
    stealCores: (b.stealMs - a.stealMs) / wall,
    ownCpuSec: own / 1000,
    mainThreadCpuSec: main / 1000,
  };
}

/** "load 1.23 0.98 0.70" (1, 5, 15 min). */
export function loadLine(): string {
  return `load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`;
}
