import cliProgress from 'cli-progress';

/** A progress bar on stderr when it is a terminal; silent otherwise (logs, CI). */
export interface Progress {
  update(done: number, total?: number): void;
  stop(): void;
}

export function progressBar(label: string, total: number): Progress {
  if (!process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% | {value}/{total} | {duration}s`, stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  // Killed while drawing: show the cursor again before exiting.
  const interrupted = (signal: NodeJS.Signals) => {
    bar.stop();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
  return {
    update: (done, t) => {
      if (t !== undefined) bar.setTotal(t);
      bar.update(done);
    },
    stop: () => {
      bar.stop();
      process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
    },
  };
}
