import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from '../src/io/atomic-file.js';

export interface LinePlot {
  title: string;
  x: { field: string; title: string; scale?: 'linear' | 'log' };
  /** `zero: false` lets a linear y axis start near the data (e.g. AUC). Default: from zero (linear), data range (log). */
  y: { field: string; title: string; scale?: 'linear' | 'log'; zero?: boolean };
  /** Field that names the series (one line each). */
  series?: string;
  values: Record<string, unknown>[];
  /** Points as well as lines (default true). */
  points?: boolean;
}

/** Renders a line chart to a standalone SVG string with Vega-Lite (no browser needed). */
export async function lineSvg(p: LinePlot): Promise<string> {
  const spec: TopLevelSpec = {
    title: p.title,
    width: 480,
    height: 280,
    data: { values: p.values },
    mark: { type: 'line', point: p.points ?? true },
    encoding: {
      x: { field: p.x.field, type: 'quantitative', title: p.x.title, scale: { type: p.x.scale ?? 'linear' } },
      y: { field: p.y.field, type: 'quantitative', title: p.y.title, scale: p.y.scale === 'log' ? { type: 'log' } : { type: 'linear', zero: p.y.zero ?? true } },
      ...(p.series ? { color: { field: p.series, type: 'nominal' as const, legend: { labelLimit: 400 } } } : {}),
    },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Writes the chart to `file` (temp file + rename). */
export async function writeLinePlot(file: string, p: LinePlot): Promise<void> {
  await writeFileAtomic(file, await lineSvg(p));
}
