/**
 * `npm run bench`: runs every benchmark — formats, hash table, parse, pipeline,
 * serving, learning quality (harder planted stream, demo stream) — and writes bench/RESULTS.md (machine and load at
 * the top, headline ratios, then every section) plus SVG plots in bench/plots/.
 * Every figure is a ratio against a baseline measured in the same run.
 *
 *   node dist/bench/run-all.js            # full run (~15-25 min on a shared 2-core machine)
 *   node dist/bench/run-all.js --quick    # short run (a few minutes), same sections and plots
 *   node dist/bench/run-all.js --only pipeline,serving
 *   node dist/bench/run-all.js --plots-only   # redraw the hash-table, pipeline and serving plots from bench/RESULTS-*.md
 *
 * Benchmarks that export `run()` are called in this process; scripts
 * (pipeline, serving) run as child processes with `--out <file>`. A full run
 * also rewrites each bench/RESULTS-<name>.md; a quick run leaves them alone.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { writeFileAtomic } from '../src/io/atomic-file.js';
import { machineInfo, run as runFormats } from './formats.js';
import { run as runLearning, type LearningBenchResult } from './learning-demo.js';
import { QUICK as PLANTED_QUICK, run as runPlanted } from './learning-quality.js';
import { run as runParse } from './parse.js';
import { writePipelinePlot } from './pipeline-plot.js';
import { writeGroupedBarPlot, writeLinePlot } from './plot.js';

const here = fileURLToPath(new URL('.', import.meta.url)); // dist/bench/
const root = join(here, '..', '..');
const benchDir = join(root, 'bench');
const plotsDir = join(benchDir, 'plots');

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const plotsOnly = args.includes('--plots-only');
const replottable = ['hashtable', 'pipeline', 'serving'];
const onlyArg = args.includes('--only') ? args[args.indexOf('--only') + 1] : args.find((a) => a.startsWith('--only='))?.slice(7);
const only = onlyArg?.split(',').map((s) => s.trim());
const wanted = (name: string): boolean => (!only || only.includes(name)) && (!plotsOnly || replottable.includes(name));
const tmp = mkdtempSync(join(os.tmpdir(), 'monolith-ts-bench-'));
const say = (s: string): void => void process.stderr.write(`[bench] ${s}\n`);

interface Section {
  name: string;
  markdown: string;
  seconds: number;
  load: [number, number];
  headline: string[];
  plots: string[];
}
const sections: Section[] = [];
const failures: string[] = [];

/** Table rows of a markdown table whose header contains `firstHeader` as its first cell: cells trimmed. */
function tableRows(md: string, firstHeader: string): string[][] {
  const lines = md.split('\n');
  const start = lines.findIndex((l) => l.startsWith('|') && l.split('|')[1]?.trim() === firstHeader);
  if (start < 0) return [];
  const rows: string[][] = [];
  for (let i = start + 2; i < lines.length && lines[i]!.startsWith('|'); i++) rows.push(lines[i]!.split('|').slice(1, -1).map((c) => c.trim()));
  return rows;
}
const num = (s: string | undefined): number => Number((s ?? '').replace(/[,×x]/g, ''));
const fx = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

async function section(name: string, fn: () => Promise<Omit<Section, 'name' | 'seconds' | 'load'>>): Promise<void> {
  if (!wanted(name)) return;
  say(`${name}: start (load ${os.loadavg()[0]!.toFixed(1)})`);
  const l0 = os.loadavg()[0]!;
  const t0 = performance.now();
  try {
    const s = await fn();
    sections.push({ name, ...s, seconds: (performance.now() - t0) / 1000, load: [l0, os.loadavg()[0]!] });
    say(`${name}: done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  } catch (err) {
    const msg = err instanceof Error ? (err.stack ?? err.message) : String(err);
    failures.push(`${name}: ${msg.split('\n')[0]}`);
    say(`${name}: FAILED ${msg}`);
  }
}

async function child(script: string, scriptArgs: string[], out: string): Promise<string> {
  // --plots-only: the recorded results instead of a new run
  if (plotsOnly) return readFileSync(join(benchDir, `RESULTS-${script.replace(/\.js$/, '')}.md`), 'utf8');
  const { stderr } = await promisify(execFile)(process.execPath, [join(here, script), ...scriptArgs, '--out', out], {
    cwd: root,
    maxBuffer: 64 << 20,
    timeout: 60 * 60 * 1000,
  });
  if (!existsSync(out)) throw new Error(`${script} wrote no ${out}: ${stderr.slice(-2000)}`);
  return readFileSync(out, 'utf8');
}

const resultsFile = (name: string): string | null => (quick ? null : join(benchDir, `RESULTS-${name}.md`));
const outFile = (name: string): string => (quick ? join(tmp, `RESULTS-${name}.md`) : join(benchDir, `RESULTS-${name}.md`));

// ---- formats ----------------------------------------------------------------
await section('formats', async () => {
  const r = await runFormats(
    quick ? { fileBytes: 20e6, recordFileInstances: 40_000, decodePool: 5000, decodeSeconds: 0.6, decodeRounds: 3, resultsPath: null } : { resultsPath: resultsFile('formats') },
  );
  const ratio = (group: RegExp, name: RegExp) => r.rows.find((x) => group.test(x.group) && name.test(x.name))?.ratio;
  return {
    markdown: r.markdown,
    plots: [],
    headline: [
      `| formats | readTFRecords (4096 B records, CRCs checked) vs raw fs read | ${fx(ratio(/4096/, /readTFRecords/) ?? NaN)}× |`,
      `| formats | Instance decode, static codec vs protobufjs reflection | ${fx(ratio(/decode/i, /static/) ?? NaN)}× |`,
    ],
  };
});

// ---- hash table -------------------------------------------------------------
interface HtRow {
  size: number;
  dim: number;
  op: string;
  ts1: number;
  map1?: number;
  cpp1?: number;
  ts2?: number;
}
await section('hashtable', async () => {
  // Newer bench/hashtable.ts exports run(opts); older ones are scripts without it (run as a child then).
  const compiled = join(here, 'hashtable.js');
  const hasRun = !plotsOnly && /export (async )?function run\b/.test(readFileSync(compiled, 'utf8'));
  let markdown: string;
  let rows: HtRow[];
  if (hasRun) {
    type HtRun = (o: Record<string, unknown>) => Promise<{ rows: HtRow[]; markdown: string }>;
    const mod = (await import(new URL('./hashtable.js', import.meta.url).href)) as { run: HtRun };
    const r = await mod.run(quick ? { sizes: [1e4, 1e5, 1e6], dims: [16], batches: 32, resultsPath: null } : { sizes: [1e4, 1e5, 1e6], resultsPath: resultsFile('hashtable') });
    markdown = r.markdown;
    rows = r.rows;
  } else {
    markdown = await child('hashtable.js', [], outFile('hashtable'));
    rows = tableRows(markdown, 'N').map((c) => ({ size: num(c[0]), dim: num(c[1]), op: c[2]!, ts1: num(c[3]), map1: num(c[4]), cpp1: num(c[6]), ts2: num(c[8]) }));
  }
  const dim = rows.some((r) => r.dim === 16) ? 16 : rows[0]?.dim;
  const names: Record<string, string> = { a: 'lookup-or-insert', b: 'Adagrad apply', c: 'lookupOnly' };
  const values: Record<string, unknown>[] = [];
  for (const r of rows.filter((x) => x.dim === dim && x.op in names)) {
    values.push({ size: r.size, rate: r.ts1, series: `ours: ${names[r.op]}` });
    if (r.map1 !== undefined && Number.isFinite(r.map1)) values.push({ size: r.size, rate: r.map1, series: `Map baseline: ${names[r.op]}` });
    if (r.cpp1 !== undefined && Number.isFinite(r.cpp1)) values.push({ size: r.size, rate: r.cpp1, series: `C++ reference: ${names[r.op]}` });
  }
  await writeLinePlot(join(plotsDir, 'hashtable-throughput-vs-size.svg'), {
    title: `Hash table throughput against table size (dim ${dim}, 1 thread)`,
    x: { field: 'size', title: 'entries in the table (N)', scale: 'log' },
    y: { field: 'rate', title: 'million keys / s', scale: 'log' },
    series: 'series',
    references: (name) => name.startsWith('C++ reference'),
    values,
  });
  const biggest = Math.max(...rows.map((r) => r.size));
  const at = (op: string) => rows.find((r) => r.size === biggest && r.dim === dim && r.op === op);
  const a = at('a');
  const c = at('c');
  return {
    markdown,
    plots: ['hashtable-throughput-vs-size.svg'],
    headline: [
      `| hash table | lookup-or-insert, N=${biggest.toExponential(0)}, dim ${dim}: ours vs Map<bigint, Float32Array> | ${fx((a?.ts1 ?? NaN) / (a?.map1 ?? NaN))}× |`,
      `| hash table | lookupOnly, same table: ours vs the C++ reference | ${fx((c?.ts1 ?? NaN) / (c?.cpp1 ?? NaN))}× |`,
    ],
  };
});

// ---- parse ------------------------------------------------------------------
await section('parse', async () => {
  const r = await runParse(quick ? { poolRows: 5000, seconds: 0.5, rounds: 2, resultsPath: null, progress: false } : { resultsPath: resultsFile('parse'), progress: false });
  const rows = tableRows(r.markdown, 'variant');
  const best = (variant: string) => num(rows.find((c) => c[0] === variant && /fast/.test(c[1]!))?.[4]);
  return {
    markdown: r.markdown,
    plots: [],
    headline: ['instance', 'example_batch'].map((v) => `| parse | ${v}: fast wire decoder vs protobufjs decode + convert | ${fx(best(v))}× |`),
  };
});

// ---- pipeline ---------------------------------------------------------------
await section('pipeline', async () => {
  const markdown = await child('pipeline.js', quick ? ['--quick'] : [], outFile('pipeline'));
  await writePipelinePlot(markdown, join(plotsDir, 'pipeline-throughput-vs-workers.svg'));
  const ratios = tableRows(markdown, 'ratio');
  const ratio = (model: string, re: RegExp) => num(ratios.find((c) => c[1] === model && re.test(c[0]!))?.[2]?.replace(/\*/g, ''));
  const models = [...new Set(ratios.map((c) => c[1]!))];
  return {
    markdown,
    plots: ['pipeline-throughput-vs-workers.svg'],
    headline: models.flatMap((m) => [
      `| pipeline | ${m}: 2 workers vs 1 worker (target 1.7 on free cores; dense alone 2 vs 1 thread: ${fx(ratio(m, /^dense alone: 2 threads/))}×) | ${fx(ratio(m, /^pipeline: 2 workers \/ 1 worker/))}× |`,
      `| pipeline | ${m}: 1 worker vs the dense step alone (target ≥ 0.8) | ${fx(ratio(m, /^pipeline, 1 worker \/ dense alone/))}× |`,
      `| pipeline | ${m}: examples/s per core, 2 workers, vs DeepRec WDL per vCPU (target ≥ 3) | ${fx(ratio(m, /per core \(2 workers\)/))}× |`,
    ]),
  };
});

// ---- serving ----------------------------------------------------------------
await section('serving', async () => {
  const markdown = await child('serving.js', ['--seconds', quick ? '1' : '3'], outFile('serving'));
  const rows = tableRows(markdown, 'batch');
  const values: Record<string, unknown>[] = [];
  for (const c of rows) {
    const series = `batch ${c[0]}, ${c[1]}`;
    values.push({ percentile: 50, ms: num(c[4]), series }, { percentile: 90, ms: num(c[5]), series }, { percentile: 99, ms: num(c[6]), series });
  }
  await writeGroupedBarPlot(join(plotsDir, 'serving-latency-percentiles.svg'), {
    title: 'Predict latency percentiles',
    group: { field: 'series', title: 'batch size, client' },
    bar: { field: 'percentile', title: 'percentile' },
    y: { field: 'ms', title: 'ms per call', scale: 'log' },
    values,
  });
  const x = (batch: string, re: RegExp) => num(rows.find((c) => c[0] === batch && re.test(c[1]!))?.[7]);
  return {
    markdown,
    plots: ['serving-latency-percentiles.svg'],
    headline: [
      `| serving | gRPC Predict (1 client) vs in-process predict, batch 1 | ${fx(x('1', /^gRPC Predict, 1 client/))}× |`,
      `| serving | same, batch 128 | ${fx(x('128', /^gRPC Predict, 1 client/))}× |`,
    ],
  };
});

// ---- learning quality on the harder planted stream ---------------------------
await section('learning-quality', async () => {
  const r = await runPlanted({ ...(quick ? PLANTED_QUICK : {}), log: (l) => say(`learning-quality: ${l}`) });
  if (!quick) await writeFileAtomic(join(benchDir, 'RESULTS-learning-quality.md'), r.markdown);
  const ceiling = r.reference.noInteractionAuc;
  return {
    markdown: r.markdown,
    plots: [],
    headline: r.sizes.flatMap((s) => [
      `| learning-quality | ${s.examples.toLocaleString('en-US')} examples: FTRL logistic regression vs the no-interaction ceiling (${fx(s.lr.auc, 4)} vs ${fx(ceiling, 4)}) | ${fx(s.lr.auc / ceiling, 4)}× |`,
      ...s.runs.map((m) => `| learning-quality | ${s.examples.toLocaleString('en-US')} examples: ${m.name}, pass 1, vs the no-interaction ceiling (${fx(m.epochs[0]!.heldOutAuc, 4)} vs ${fx(ceiling, 4)}; Bayes ${fx(r.reference.bayesAuc, 4)}) | ${fx(m.epochs[0]!.heldOutAuc / ceiling, 4)}× |`),
    ]),
  };
});

// ---- learning quality on the demo stream -------------------------------------
await section('learning', async () => {
  const r: LearningBenchResult = await runLearning({ quick, plot: join(plotsDir, 'auc-over-time.svg'), log: (l) => say(`learning: ${l}`) });
  if (!quick) await writeFileAtomic(join(benchDir, 'RESULTS-learning.md'), r.markdown);
  const gap = r.planted.auc - r.collisionless.auc;
  return {
    markdown: r.markdown,
    plots: ['auc-over-time.svg'],
    headline: [
      `| learning | held-out AUC, trained DeepFM vs planted model (${fx(r.collisionless.auc, 4)} vs ${fx(r.planted.auc, 4)}, gap ${fx(gap, 4)}; target gap ≤ 0.01) | ${fx(r.collisionless.auc / r.planted.auc, 4)}× |`,
      ...(r.pairs
        ? [
            `| learning | pair stream (2 random pair interactions): trained vs planted (${fx(r.pairs.run.auc, 4)} vs ${fx(r.pairs.planted.auc, 4)}, gap ${fx(r.pairs.planted.auc - r.pairs.run.auc, 4)}; without pair terms the planted model scores ${fx(r.pairs.planted.firstOrderAuc, 4)}) | ${fx(r.pairs.run.auc / r.pairs.planted.auc, 4)}× |`,
          ]
        : []),
      ...r.hashed.map(
        (h) =>
          `| learning | ${h.name} vs collisionless, held-out AUC (${fx(h.auc, 4)} vs ${fx(r.collisionless.auc, 4)}; ${fx((h.collision?.rate ?? NaN) * 100, 1)}% of ids collide) | ${fx(h.auc / r.collisionless.auc, 4)}× |`,
      ),
    ],
  };
});

// ---- RESULTS.md -------------------------------------------------------------
rmSync(tmp, { recursive: true, force: true });
if (plotsOnly) {
  say(`redrew ${sections.flatMap((s) => s.plots).join(', ')} from the recorded results${failures.length ? `; failed: ${failures.join('; ')}` : ''}`);
  process.exit(failures.length ? 1 : 0);
}
const m = machineInfo();
const loads = os.loadavg();
const head = [
  '# Benchmark results',
  '',
  `Written by \`${quick ? 'npm run bench -- --quick' : 'npm run bench'}\` (bench/run-all.ts) on ${new Date().toISOString()}${only ? ` (only: ${only.join(', ')})` : ''}${quick ? '; **quick mode**: short runs, smaller files and budgets — the full run (`npm run bench`) gives steadier figures' : ''}.`,
  '',
  `**Machine**: ${m.cpu}, ${m.cores} vCPUs, ${m.memGB} GiB, ${m.platform}, Node ${m.node}. Load average (1 min) at start ${m.load1.toFixed(1)}, at the end ${loads[0]!.toFixed(1)}:`,
  `the machine is shared with other work, so absolute figures drift (up to 2× between runs); compare the **ratios**, each measured against a baseline in the same run`,
  '(see docs/benchmarks.md for what every benchmark measures and how to read them).',
  '',
  '## Headline ratios',
  '',
  '| benchmark | figure | ratio |',
  '| --- | --- | ---: |',
  ...sections.flatMap((s) => s.headline),
  '',
  '| section | seconds | load at start → end |',
  '| --- | ---: | --- |',
  ...sections.map((s) => `| ${s.name} | ${s.seconds.toFixed(0)} | ${s.load[0].toFixed(1)} → ${s.load[1].toFixed(1)} |`),
  ...(failures.length ? ['', '**Failed sections**:', ...failures.map((f) => `- ${f}`)] : []),
  '',
  '## Plots',
  '',
  ...sections.flatMap((s) => s.plots.map((p) => `![${p.replace(/\.svg$/, '').replace(/-/g, ' ')}](plots/${p})`)),
  '',
];
// Each section's headings move one level down under this file's title; the learning section's plot link is already relative to bench/.
const body = sections.map((s) => s.markdown.replace(/^#/gm, '##'));
await writeFileAtomic(join(benchDir, 'RESULTS.md'), `${head.join('\n')}\n${body.join('\n')}`);
say(`wrote bench/RESULTS.md and ${sections.flatMap((s) => s.plots).length} plot(s) in bench/plots/${failures.length ? `; ${failures.length} section(s) failed` : ''}`);
if (failures.length) process.exitCode = 1;
