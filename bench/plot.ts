import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from '../src/io/atomic-file.js';

export interface LinePlot {
  title: string;
  /** `integer`: ticks on whole numbers only (e.g. worker counts). */
  x: { field: string; title: string; scale?: 'linear' | 'log'; integer?: boolean };
  /** `zero: false` lets a linear y axis start near the data (e.g. AUC). Default: from zero (linear), data range (log). */
  y: { field: string; title: string; scale?: 'linear' | 'log'; zero?: boolean };
  /** Field that names the series (one line each). */
  series?: string;
  /** Series that are reference lines (ideal, planted model, C++ reference): drawn dashed and labelled at their right end. */
  references?: (series: string) => boolean;
  values: Record<string, unknown>[];
  /** Points as well as lines (default true). */
  points?: boolean;
}

/** Colour-blind-safe palette (Okabe–Ito plus two greys). */
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000', '#777777', '#AAAAAA'];

/** Where a series name starts looking for its colour: a stable hash of the name. */
function colorSlot(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return (h >>> 0) % PALETTE.length;
}

/**
 * One colour per series name in every plot: names (sorted) take their hash's
 * palette slot, or the next free one; the same set of names always gets the
 * same colours, and no two series of a plot share one (up to 10 series).
 */
export function seriesColors(names: Iterable<string>): Map<string, string> {
  const taken = new Set<number>();
  const out = new Map<string, string>();
  for (const name of [...new Set(names)].sort()) {
    let slot = colorSlot(name);
    for (let k = 0; k < PALETTE.length && taken.has(slot); k++) slot = (slot + 1) % PALETTE.length;
    taken.add(slot);
    out.set(name, PALETTE[slot]!);
  }
  return out;
}

function colorScale(values: Record<string, unknown>[], field: string) {
  const domain = [...new Set(values.map((v) => String(v[field])))];
  const colors = seriesColors(domain);
  return { domain, range: domain.map((d) => colors.get(d)!) };
}

async function render(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Renders a line chart to a standalone SVG string with Vega-Lite (no browser needed). */
export async function lineSvg(p: LinePlot): Promise<string> {
  const s = p.series;
  const values = p.values.map((v) => ({ ...v, kind: s && p.references?.(String(v[s])) ? 'reference' : 'measured' }));
  const x = {
    field: p.x.field,
    type: 'quantitative' as const,
    title: p.x.title,
    scale: { type: p.x.scale ?? 'linear' },
    ...(p.x.integer ? { axis: { tickMinStep: 1, format: 'd' } } : {}),
  };
  const y = { field: p.y.field, type: 'quantitative' as const, title: p.y.title, scale: p.y.scale === 'log' ? { type: 'log' as const } : { type: 'linear' as const, zero: p.y.zero ?? true } };
  const color = s ? { color: { field: s, type: 'nominal' as const, scale: colorScale(values, s), legend: { labelLimit: 400, orient: 'bottom' as const, columns: 1 } } } : {};
  const spec = {
    title: p.title,
    width: 480,
    height: 280,
    data: { values },
    layer: [
      {
        mark: { type: 'line', point: p.points ?? true },
        encoding: {
          x,
          y,
          ...color,
          strokeDash: { field: 'kind', type: 'nominal', scale: { domain: ['measured', 'reference'], range: [[1, 0], [6, 4]] }, legend: null },
        },
      },
      ...(s && p.references
        ? [
            {
              // the reference's name at its right end
              transform: [{ filter: "datum.kind === 'reference'" }, { joinaggregate: [{ op: 'max', field: p.x.field, as: '__xmax' }], groupby: [s] }, { filter: `datum['${p.x.field}'] === datum.__xmax` }],
              mark: { type: 'text', align: 'right', dy: -7, fontSize: 10 },
              encoding: { x, y, text: { field: s, type: 'nominal' }, ...color },
            },
          ]
        : []),
    ],
  } as TopLevelSpec;
  return render(spec);
}

/** Writes the chart to `file` (temp file + rename). */
export async function writeLinePlot(file: string, p: LinePlot): Promise<void> {
  await writeFileAtomic(file, await lineSvg(p));
}

export interface GroupedBarPlot {
  title: string;
  /** The groups along x (e.g. the run), bars within a group by `bar` (e.g. the percentile). */
  group: { field: string; title: string };
  bar: { field: string; title: string };
  y: { field: string; title: string; scale?: 'linear' | 'log' };
  values: Record<string, unknown>[];
}

/** Grouped bars (e.g. latency percentiles per run), one colour per bar kind in every plot. */
export async function writeGroupedBarPlot(file: string, p: GroupedBarPlot): Promise<void> {
  const spec = {
    title: p.title,
    width: 480,
    height: 280,
    data: { values: p.values },
    mark: { type: 'bar' },
    encoding: {
      x: { field: p.group.field, type: 'nominal', title: p.group.title, sort: null, axis: { labelAngle: -30, labelLimit: 400 } },
      xOffset: { field: p.bar.field, type: 'nominal' },
      // bars side by side, not stacked (a stack cannot start at 0 on a log scale)
      y: { field: p.y.field, type: 'quantitative', title: p.y.title, stack: null, scale: p.y.scale === 'log' ? { type: 'log' } : { type: 'linear', zero: true } },
      color: { field: p.bar.field, type: 'nominal', title: p.bar.title, scale: colorScale(p.values, p.bar.field) },
    },
  } as TopLevelSpec;
  await writeFileAtomic(file, await render(spec));
}
