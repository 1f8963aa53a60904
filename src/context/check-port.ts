import { connect } from 'node:net';

/**
 * Whether a TCP connection to `host:port` succeeds within `timeoutMs`
 * (mlp_utils.check_port). A refused connection is retried until the time is up;
 * IPv6 hosts may be written with or without brackets.
 */
export async function checkPort(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  const bare = host.replace(/^\[/, '').replace(/\]$/, '');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return false;
    const outcome = await attempt(bare, port, remaining);
    if (outcome === 'connected') return true;
    if (outcome === 'timeout') return false;
    // refused or unreachable: try again shortly, as the seed retries until its timeout
    const pause = Math.min(50, deadline - Date.now());
    if (pause > 0) await new Promise((r) => setTimeout(r, pause));
  }
}

function attempt(host: string, port: number, timeoutMs: number): Promise<'connected' | 'timeout' | 'error'> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, family: host.includes(':') ? 6 : 4 });
    const done = (outcome: 'connected' | 'timeout' | 'error') => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    socket.once('connect', () => done('connected'));
    socket.once('error', () => done('error'));
  });
}
