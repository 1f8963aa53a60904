/** A small leveled logger on stderr; the level comes from MONOLITH_LOG (debug|info|warn|error|silent). */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

let level: LogLevel = (process.env.MONOLITH_LOG as LogLevel | undefined) ?? 'warn';
if (!(level in order)) level = 'warn';

export function setLogLevel(l: LogLevel): void {
  level = l;
}

export function getLogLevel(): LogLevel {
  return level;
}

function emit(l: LogLevel, msg: string): void {
  if (order[l] >= order[level]) process.stderr.write(`[monolith-ts] ${l}: ${msg}\n`);
}

export const log = {
  debug: (msg: string) => emit('debug', msg),
  info: (msg: string) => emit('info', msg),
  warn: (msg: string) => emit('warn', msg),
  error: (msg: string) => emit('error', msg),
};

const seen = new Map<string, number>();
/** Logs `msg` at most `n` times per `key`, like absl's log_first_n. */
export function warnFirstN(key: string, n: number, msg: string): void {
  const count = seen.get(key) ?? 0;
  if (count < n) {
    seen.set(key, count + 1);
    log.warn(msg);
  }
}
