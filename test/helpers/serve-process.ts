/**
 * `monolith-ts serve … --port 0 --rest-api-port 0` as a child process, as a
 * user starts it: resolves once it prints where it listens (gRPC and REST).
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface ServeProcess {
  child: ChildProcess;
  /** host:port of the gRPC API. */
  grpc: string;
  /** http://host:port of the REST API. */
  rest: string;
  /** Ends the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
}

export function startServe(cli: string, cwd: string, args: string[]): Promise<ServeProcess> {
  const child = spawn(process.execPath, [cli, 'serve', ...args, '--port', '0', '--rest-api-port', '0'], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MONOLITH_LOG: 'warn' } });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise<ServeProcess>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const grpc = /serving \S+ version \S+ on (\S+)/.exec(out)?.[1];
      const rest = /REST API on (\S+)/.exec(out)?.[1];
      if (grpc && rest) resolve({ child, grpc, rest, stop });
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code} before listening: ${stderr}`)));
  });
}
