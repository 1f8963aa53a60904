/**
 * bench/plots/pipeline-throughput-vs-workers.svg from the markdown bench/pipeline.ts
 * writes: per model, examples/s of the pipeline and of the dense step alone
 * against threads, as a multiple of the dense step alone in one thread (same run),
 * with the ideal n × for reference.
 */
import { writeLinePlot } from './plot.js';

/** Rows of the table whose first header cell is `first` (cells trimmed). */
function tableRows(md: string, first: string): string[][] {
  const lines = md.split('\n');
  const start = lines.findIndex((l) => l.startsWith('|') && l.split('|')[1]?.trim() === first);
  if (start < 0) return [];
  const rows: string[][] = [];
  for (let i = start + 2; i < lines.length && lines[i]!.startsWith('|'); i++) rows.push(lines[i]!.split('|').slice(1, -1).map((c) => c.trim()));
  return rows;
}

const num = (s: string | undefined): number => Number((s ?? '').replace(/[,×x*]/g, ''));

/** Per model and run: examples/s ÷ dense alone in 1 thread (the table's own within-round median). */
export function pipelinePlotValues(md: string): Record<string, unknown>[] {
  const rows = tableRows(md, 'model').filter((c) => /^(dense alone|pipeline)/.test(c[1] ?? ''));
  const values: Record<string, unknown>[] = rows.map((c) => ({
    workers: /2 (threads|workers)/.test(c[1]!) ? 2 : 1,
    ratio: num(c[4]),
    series: `${c[0]}: ${c[1]!.startsWith('pipeline') ? 'pipeline (parse → lookup → dense → apply)' : 'dense step alone'}`,
  }));
  values.push({ workers: 1, ratio: 1, series: 'ideal: n × dense alone in 1 thread' }, { workers: 2, ratio: 2, series: 'ideal: n × dense alone in 1 thread' });
  return values;
}

export async function writePipelinePlot(md: string, file: string): Promise<void> {
  await writeLinePlot(file, {
    title: 'Training throughput against threads (× the dense step alone in 1 thread, same run)',
    x: { field: 'workers', title: 'worker threads', integer: true },
    y: { field: 'ratio', title: 'examples/s ÷ dense step alone, 1 thread' },
    series: 'series',
    references: (name) => name.startsWith('ideal'),
    values: pipelinePlotValues(md),
  });
}
