import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A Redis Cluster of real `redis-server` processes on loopback, for tests and benches. */
export interface LocalRedisCluster {
  ports: number[];
  /** "127.0.0.1:port" of every node. */
  nodes: string[];
  /** SIGKILLs node i (the others keep running). */
  kill(i: number): void;
  /** SIGSTOPs / SIGCONTs node i: it keeps its connections but does not answer. */
  pause(i: number): void;
  resume(i: number): void;
  stop(): Promise<void>;
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A free port whose cluster-bus port (port + 10000) is free as well. */
async function freePort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    if (port + 10000 < 65536 && !taken.has(port) && (await portFree(port + 10000))) return port;
  }
}

const cli = (port: number, ...args: string[]) => run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args]);

/** Polls `check` (a process we started coming up) every 20 ms, up to `ms`. */
async function until(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > end) throw new Error(`redis test cluster: ${what} not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Starts `n` cluster-enabled `redis-server`s on free loopback ports with a
 * temp dir and no persistence, joins them (`redis-cli --cluster create` for 3+
 * nodes; a single node takes every slot itself) and waits for cluster_state:ok.
 */
export async function startRedisCluster(n = 3): Promise<LocalRedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'mt-redis-'));
  const taken = new Set<number>();
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = await freePort(taken);
    taken.add(p);
    ports.push(p);
  }
  const procs: ChildProcess[] = ports.map((p) =>
    spawn('redis-server', ['--port', String(p), '--bind', '127.0.0.1', '--cluster-announce-ip', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${p}.conf`, '--cluster-node-timeout', '2000', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'], { stdio: 'ignore' }),
  );
  const stop = async () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode !== 'SIGKILL') p.kill('SIGKILL');
    await Promise.all(procs.map((p) => (p.exitCode === null && p.signalCode !== 'SIGKILL' ? new Promise((r) => p.once('exit', r)) : undefined)));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const p of ports) await until(`node ${p} answering PING`, 10_000, async () => (await cli(p, 'PING')).stdout.trim() === 'PONG');
    if (n >= 3) {
      await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes']);
    } else {
      await cli(ports[0]!, 'CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
      for (const p of ports.slice(1)) await cli(p, 'CLUSTER', 'MEET', '127.0.0.1', String(ports[0]));
    }
    for (const p of ports) await until(`cluster_state:ok on ${p}`, 20_000, async () => (await cli(p, 'CLUSTER', 'INFO')).stdout.includes('cluster_state:ok'));
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    ports,
    nodes: ports.map((p) => `127.0.0.1:${p}`),
    kill: (i) => void procs[i]!.kill('SIGKILL'),
    pause: (i) => void procs[i]!.kill('SIGSTOP'),
    resume: (i) => void procs[i]!.kill('SIGCONT'),
    stop,
  };
}
