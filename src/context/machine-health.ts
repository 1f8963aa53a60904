import { readFileSync } from 'node:fs';
import { tensorflow } from '../proto.js';
import { MonolithError } from '../errors.js';

const { MachineHealthResult } = tensorflow.monolith_tf;

/** `monolith_default_machine_info_mem_limit`: 2^62 bytes. */
export const DEFAULT_MACHINE_INFO_MEM_LIMIT = 2 ** 62;

export interface MachineInfo {
  /** Resident memory (bytes) at or above which the machine is unhealthy. */
  readonly memLimit: number;
}

/** A MachineInfo with `memLimit` bytes (default DEFAULT_MACHINE_INFO_MEM_LIMIT). */
export function machineInfo(memLimit: number = DEFAULT_MACHINE_INFO_MEM_LIMIT): MachineInfo {
  return { memLimit };
}

/** Resident set size of this process in bytes: VmRSS of /proc/self/status, else process.memoryUsage().rss. */
export function currentMemoryUsage(): number {
  try {
    const status = readFileSync('/proc/self/status', 'latin1');
    const m = /^VmRSS:\s*(\d+)\s*kB/m.exec(status);
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux: fall through
  }
  return process.memoryUsage().rss;
}

/**
 * A serialized `tensorflow.monolith_tf.MachineHealthResult`: empty bytes
 * when healthy, else status OUT_OF_MEMORY with a message giving the usage
 * and the limit.
 */
export function checkMachineHealth(info: MachineInfo, usage: () => number = currentMemoryUsage): Uint8Array {
  const current = usage();
  if (!(current > 0)) throw new MonolithError('checkMachineHealth: unable to get the current process usage');
  if (current < info.memLimit) return new Uint8Array(0);
  return MachineHealthResult.encode({
    status: MachineHealthResult.MachineHealthStatus.OUT_OF_MEMORY,
    message: `Memory limit exceeded. Current: ${current}, Limit: ${info.memLimit}`,
  }).finish();
}
