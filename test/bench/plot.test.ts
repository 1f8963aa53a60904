import test from 'ava';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lineSvg, seriesColors, writeGroupedBarPlot } from '../../bench/plot.js';
import { tempDir } from '../helpers.js';

const ticks = (svg: string) => [...svg.matchAll(/role-axis-label[\s\S]*?<\/g>/g)].flatMap((m) => [...m[0].matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((t) => t[1]));

test('line plots: integer ticks on request, references dashed and labelled, one colour per series name across plots', async (t) => {
  const values = [
    { workers: 1, r: 0.9, s: 'pipeline' },
    { workers: 2, r: 1.5, s: 'pipeline' },
    { workers: 1, r: 1, s: 'ideal' },
    { workers: 2, r: 2, s: 'ideal' },
  ];
  const plot = (integer: boolean) => lineSvg({ title: 't', x: { field: 'workers', title: 'workers', integer }, y: { field: 'r', title: 'r' }, series: 's', references: (n) => n === 'ideal', values });
  const svg = await plot(true);
  t.false(ticks(svg).includes('1.5'), 'no fractional worker tick');
  t.true(ticks(await plot(false)).includes('1.5'), 'without integer the axis has half ticks');
  t.regex(svg, /stroke-dasharray="6,4"/);
  const dashed = [...svg.matchAll(/<path aria-label="[^"]*s: (\w+)[^"]*"[^>]*stroke-dasharray="6,4"/g)].map((m) => m[1]);
  t.true(dashed.length > 0 && dashed.every((s) => s === 'ideal'), `only the reference is dashed: ${dashed}`);
  t.regex(svg, /<text[^>]*>ideal<\/text>/);
  const a = seriesColors(['ours', 'Map baseline', 'C++ reference', 'planted']);
  const b = seriesColors(['planted', 'C++ reference', 'Map baseline', 'ours']);
  t.deepEqual([...a.entries()].sort(), [...b.entries()].sort());
  t.is(new Set(a.values()).size, 4);
});

test('grouped bars: percentiles side by side per run, on a log scale', async (t) => {
  const file = join(await tempDir(), 'bars.svg');
  await writeGroupedBarPlot(file, {
    title: 'latency',
    group: { field: 'run', title: 'run' },
    bar: { field: 'p', title: 'percentile' },
    y: { field: 'ms', title: 'ms', scale: 'log' },
    values: [
      { run: 'a', p: 'p50', ms: 0.3 },
      { run: 'a', p: 'p99', ms: 1.1 },
      { run: 'b', p: 'p50', ms: 12 },
      { run: 'b', p: 'p99', ms: 180 },
    ],
  });
  const svg = await readFile(file, 'utf8');
  const bars = [...svg.matchAll(/<path aria-label="[^"]*"[^>]*role="graphics-symbol" aria-roledescription="bar"[^>]*d="M([\d.]+),/g)];
  t.is(bars.length, 4, svg.slice(0, 200));
  t.is(new Set(bars.map((m) => m[1])).size, 4, 'no two bars at the same x (not stacked)');
});
