/**
 * Time to `import 'monolith-ts'` in a fresh process, repeated:
 *
 *   node dist/bench/import-time.js [--runs 15] [--dir <package dir>] [--entry monolith-ts]
 *
 * Each run is a new `node` process that imports the entry once (a cold
 * module graph, warm OS file cache) and prints the milliseconds the import
 * took; the report is the median with the min–max spread. `--dir` points at
 * another checkout (e.g. an older build) to compare. The figures depend on
 * the machine's load: treat them as indicative.
 */
import { execFileSync } from 'node:child_process';
import { projectRoot } from './project-root.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : dflt;
};
const runs = Number(opt('runs', '15'));
const dir = opt('dir', projectRoot());
const entry = opt('entry', 'monolith-ts');

const script = `const t=performance.now();await import(${JSON.stringify(entry)});process.stdout.write(String(performance.now()-t));`;
const times: number[] = [];
execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir }); // warm the file cache
for (let i = 0; i < runs; i++) {
  times.push(Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8' })));
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;
const f = (x: number): string => x.toFixed(0);
console.log(`import '${entry}' from ${dir}: median ${f(median)} ms, min ${f(times[0]!)} ms, max ${f(times.at(-1)!)} ms over ${runs} runs`);
