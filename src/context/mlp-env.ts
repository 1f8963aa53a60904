import { networkInterfaces } from 'node:os';
import { ConfigError } from '../errors.js';
import { log } from '../util/log.js';
import { checkPort } from './check-port.js';

type Env = Readonly<Record<string, string | undefined>>;

function intVar(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw.trim());
  if (!Number.isInteger(value)) throw new ConfigError(`${name}=${JSON.stringify(raw)} is not an integer`);
  return value;
}

/** `OMPI_COMM_WORLD_RANK` (default 0). */
export const mpiRank = (env: Env = process.env): number => intVar(env, 'OMPI_COMM_WORLD_RANK', 0);
/** `OMPI_COMM_WORLD_SIZE` (default 1). */
export const mpiSize = (env: Env = process.env): number => intVar(env, 'OMPI_COMM_WORLD_SIZE', 1);
/** `OMPI_COMM_WORLD_LOCAL_RANK` (default 0). */
export const mpiLocalRank = (env: Env = process.env): number => intVar(env, 'OMPI_COMM_WORLD_LOCAL_RANK', 0);
/** `OMPI_COMM_WORLD_LOCAL_SIZE` (default 1). */
export const mpiLocalSize = (env: Env = process.env): number => intVar(env, 'OMPI_COMM_WORLD_LOCAL_SIZE', 1);

/**
 * This host's address (yarn_runtime.get_local_host): the first of
 * `CLOUDNATIVE_INET_ADDR`, else `YARN_INET_ADDR`, else the first external IPv4
 * address of the machine (127.0.0.1 when there is none).
 */
export function getLocalHost(env: Env = process.env): string {
  if (env.CLOUDNATIVE_INET_ADDR) return env.CLOUDNATIVE_INET_ADDR.split(',')[0]!;
  if (env.YARN_INET_ADDR) return env.YARN_INET_ADDR;
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

export interface MLPEnvOptions {
  env?: Env;
  /** How this host's address is found (default getLocalHost(env)). */
  localHost?: () => string;
}

export interface WaitOptions {
  role?: string;
  index?: number;
  /** Give up after this many seconds of polling; ≤ 0 waits forever (default -1). */
  timeoutSecs?: number;
  /** Check the SSH port instead of the role's port (default true). */
  useSsh?: boolean;
  /** Seconds between checks (default 5). */
  pollSecs?: number;
  /** Timeout of one connection check in ms (default 1000). */
  checkTimeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface JoinOptions extends WaitOptions {
  /** Called once the watched port stops answering (default process.exit). */
  exit?: (code: number) => void;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The MLP (YARN / cloud-native) job environment (mlp_utils.MLPEnv): role,
 * index, replicas, hosts, addresses and ports of every role, read from
 * `MLP_*` / `MPI_*` variables, with MPI workers taking their index from the
 * Open MPI rank. Ports are integers throughout.
 */
export class MLPEnv {
  private readonly mlpEnv: Record<string, string>;
  private readonly env: Env;
  readonly framework?: string;
  readonly sshPort?: number;
  readonly logPath?: string;
  readonly debugPort?: number;
  readonly entrypointDir?: string;
  readonly taskCmd?: string;
  /** Upper-case role of this process ('' when unset). */
  readonly role: string;
  /** Replicas per role from `MLP_<ROLE>_NUM` (WORKER from the MPI size under MPI). */
  readonly allRoles: Record<string, number>;
  readonly index: number;
  readonly port: number;
  /** Whether an MLP environment with at least one role is present. */
  readonly available: boolean;
  readonly cpu: number;
  readonly gpu: number;
  readonly gpuType: string;
  readonly mem: number;
  readonly host: string;

  constructor(opts: MLPEnvOptions = {}) {
    this.env = opts.env ?? process.env;
    this.mlpEnv = {};
    for (const [k, v] of Object.entries(this.env)) {
      if (v !== undefined && (k.startsWith('MLP_') || k.startsWith('MPI_'))) this.mlpEnv[k] = v;
    }
    this.framework = this.get('MLP_FRAMEWORK');
    this.sshPort = this.optionalInt('MLP_SSH_PORT');
    this.logPath = this.get('MLP_LOG_PATH');
    this.debugPort = this.optionalInt('MLP_DEBUG_PORT');
    this.entrypointDir = this.get('MLP_ENTRYPOINT_DIR');
    this.taskCmd = this.get('MLP_TASK_CMD');
    this.role = (this.get('MLP_ROLE') ?? '').toUpperCase();
    this.allRoles = {};
    for (const k of Object.keys(this.mlpEnv)) {
      const parts = k.split('_');
      if (k.endsWith('_NUM') && parts.length === 3) this.allRoles[parts[1]!] = this.int(k, 0);
    }
    if (this.enableMpi) {
      this.index = mpiRank(this.env);
      this.allRoles.WORKER = mpiSize(this.env);
      this.port = this.int('MLP_PORT', 0) + this.index;
      log.info(`mlp: ${mpiSize(this.env)} processes, this is ${this.index}, port ${this.port}`);
    } else {
      this.index = this.int('MLP_ROLE_INDEX', 0);
      this.port = this.int('MLP_PORT', 0);
    }
    this.available = Object.keys(this.mlpEnv).length > 0 && Object.keys(this.allRoles).length > 0;
    this.cpu = this.int('MLP_CPU', 0);
    this.gpu = this.int('MLP_GPU', 0);
    this.gpuType = this.get('MLP_GPU_TYPE') ?? '';
    this.mem = this.int('MLP_MEM', 0);
    this.host = opts.localHost ? opts.localHost() : getLocalHost(this.env);
  }

  /** An Open MPI launch of a worker: `OMPI_COMM_WORLD_RANK` is set and the role is WORKER. */
  get enableMpi(): boolean {
    return this.env.OMPI_COMM_WORLD_RANK !== undefined && this.role === 'WORKER';
  }

  /** An MLP/MPI variable with surrounding whitespace and quotes removed; empty counts as missing. */
  get(name: string): string | undefined {
    const value = this.mlpEnv[name];
    if (!value) return undefined;
    return value.trim().replace(/^"+|"+$/g, '').replace(/^'+|'+$/g, '');
  }

  private int(name: string, fallback: number): number {
    const raw = this.get(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value)) throw new ConfigError(`${name}=${JSON.stringify(raw)} is not an integer`);
    return value;
  }

  private optionalInt(name: string): number | undefined {
    return this.get(name) === undefined ? undefined : this.int(name, 0);
  }

  private roleOf(role?: string): string {
    return (role || this.role).toUpperCase();
  }

  numReplicas(role?: string): number {
    const r = this.roleOf(role);
    if (this.enableMpi && r === 'WORKER') return mpiSize(this.env);
    return this.int(`MLP_${r}_NUM`, 0);
  }

  /** Hosts of a role (`MLP_<ROLE>_ALL_PRIMARY_HOSTS` / `_ALL_HOSTS`), split at commas. */
  getAllHost(role?: string, isPrimary = true): string[] {
    const r = this.roleOf(role);
    const value = this.get(isPrimary ? `MLP_${r}_ALL_PRIMARY_HOSTS` : `MLP_${r}_ALL_HOSTS`);
    return value ? value.split(',') : [];
  }

  /** `host:port` addresses of a role (`MLP_<ROLE>_ALL_PRIMARY_ADDRS` / `_ALL_ADDRS`). */
  getAllAddrs(role?: string, isPrimary = true): string[] {
    const r = this.roleOf(role);
    const value = this.get(isPrimary ? `MLP_${r}_ALL_PRIMARY_ADDRS` : `MLP_${r}_ALL_ADDRS`);
    return value ? value.split(',') : [];
  }

  /**
   * Host of replica `index` of a role. MPI workers share a host per
   * `OMPI_COMM_WORLD_LOCAL_SIZE` ranks; the index defaults to this process's
   * for its own role and to 0 for others.
   */
  getHost(role?: string, index?: number, isPrimary = true): string | undefined {
    const r = this.roleOf(role);
    let i: number;
    if (this.enableMpi && r === 'WORKER') i = Math.floor((index ?? this.index) / mpiLocalSize(this.env));
    else if (r === this.role) i = index ?? this.index;
    else i = index ?? 0;
    return this.get(isPrimary ? `MLP_${r}_${i}_PRIMARY_HOST` : `MLP_${r}_${i}_HOST`);
  }

  /** `host:port` of replica `index` of a role, or undefined when either is unknown. */
  getAddr(role?: string, index?: number, isPrimary = true): string | undefined {
    const r = this.roleOf(role);
    const i = r === this.role ? (index ?? this.index) : (index ?? 0);
    const host = this.getHost(r, i, isPrimary);
    let port: number | undefined;
    if (this.enableMpi && r === 'WORKER') {
      const base = this.get(`MLP_${r}_0_PORT`);
      port = base === undefined ? undefined : this.int(`MLP_${r}_0_PORT`, 0) + i;
    } else {
      port = this.get(`MLP_${r}_${i}_PORT`) === undefined ? undefined : this.int(`MLP_${r}_${i}_PORT`, 0);
    }
    return host && port !== undefined ? `${host}:${port}` : undefined;
  }

  /**
   * Port of replica `index` of a role (default 2222). MPI workers: worker 0's
   * port plus the index (default this process's); otherwise the index defaults to 0.
   */
  getPort(role?: string, index?: number): number {
    const r = this.roleOf(role);
    if (this.enableMpi && r === 'WORKER') return this.int(`MLP_${r}_0_PORT`, 2222) + (index ?? this.index);
    return this.int(`MLP_${r}_${index ?? 0}_PORT`, 2222);
  }

  dispatcherAddr(role?: string): string | undefined {
    return this.getAddr((role || 'dispatcher').toUpperCase());
  }

  /** `grpc://<dispatcher addr>`, else `grpc://localhost:5050`. */
  dispatcherTarget(role?: string): string {
    const addr = this.dispatcherAddr(role);
    return addr ? `grpc://${addr}` : 'grpc://localhost:5050';
  }

  /** TF device string of the input queue: PS 0 if there are PS, else worker 0, else local. */
  get queueDevice(): string {
    if ('PS' in this.allRoles) return '/job:ps/task:0/device:CPU:0';
    if ('WORKER' in this.allRoles) return '/job:worker/task:0/device:CPU:0';
    return '/device:CPU:0';
  }

  /**
   * Polls the host of `role`/`index` (its SSH port, or the role's port) every
   * `pollSecs` until it answers; true when it did, false after `timeoutSecs`
   * or when the host is unknown.
   */
  async wait(opts: WaitOptions = {}): Promise<boolean> {
    const index = opts.index ?? 0;
    const host = this.getHost(opts.role, index, true);
    const port = (opts.useSsh ?? true) ? this.sshPort : this.getPort(opts.role, index);
    if (!host || port === undefined) {
      log.info(`mlp wait: host or port unknown for ${this.roleOf(opts.role)}:${index}`);
      return false;
    }
    const sleep = opts.sleep ?? realSleep;
    const pollSecs = opts.pollSecs ?? 5;
    const timeout = opts.timeoutSecs ?? -1;
    for (let waited = 0; ; waited += pollSecs) {
      if (timeout > 0 && waited >= timeout) {
        log.info(`mlp wait: ${host}:${port} timed out`);
        return false;
      }
      if (await checkPort(host, port, opts.checkTimeoutMs ?? 1000)) return true;
      await sleep(pollSecs * 1000);
    }
  }

  /**
   * Waits for `role`/`index` (default worker 0) to come up, then until it goes
   * away, and then exits with code 0: how auxiliary roles end with the job.
   */
  async join(opts: JoinOptions = {}): Promise<void> {
    const role = opts.role ?? 'worker';
    const index = opts.index ?? 0;
    await this.wait({ ...opts, role, index });
    const host = this.getHost(role, index, true);
    const port = (opts.useSsh ?? true) ? this.sshPort : this.getPort(role, index);
    const sleep = opts.sleep ?? realSleep;
    if (host && port !== undefined) {
      while (await checkPort(host, port, opts.checkTimeoutMs ?? 60_000)) await sleep(10_000);
    } else {
      log.info('mlp join: host is unknown');
    }
    log.info(`mlp: role ${this.role}:${this.index} exits`);
    (opts.exit ?? ((code: number) => process.exit(code)))(0);
  }
}

/**
 * Under Open MPI, makes an uncaught exception end the whole job
 * (add_mpi_exception_hook: print, then abort). Returns a function removing the
 * handler, or undefined when this is not an MPI launch.
 */
export function addMpiExceptionHook(opts: { env?: Env; abort?: (code: number) => void } = {}): (() => void) | undefined {
  const env = opts.env ?? process.env;
  if (env.OMPI_COMM_WORLD_RANK === undefined) return undefined;
  const abort = opts.abort ?? ((code: number) => process.exit(code));
  const handler = (err: Error) => {
    process.stderr.write(`Uncaught exception on MPI rank ${env.OMPI_COMM_WORLD_RANK}: ${err.stack ?? err}\n`);
    abort(1);
  };
  process.on('uncaughtException', handler);
  return () => process.off('uncaughtException', handler);
}
