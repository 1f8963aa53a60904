/**
 * Time to `import 'monolith-ts'` in a fresh process, repeated:
 *
 *   node dist/bench/import-time.js [--runs 15] [--dir <package dir>] [--entry monolith-ts]
 *
 * Each run is a new `node` process that imports the entry once (a cold
 * module graph, warm OS file cache) and prints the milliseconds the import
 * took, wall clock and CPU (user + system, all threads of the process); the
 * report is the median with the min–max spread of each. On a busy machine the
 * CPU figure is the steadier one. `--dir` points at another checkout (e.g. an
 * older build) to compare. Treat the figures as indicative.
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

const script =
  'const c=process.cpuUsage(),t=performance.now();' +
  `await import(${JSON.stringify(entry)});` +
  'const u=process.cpuUsage(c);process.stdout.write(JSON.stringify([performance.now()-t,(u.user+u.system)/1000]));';
// Which packages the import loads: a figure the machine's load does not change.
const census =
  "import{createRequire}from'node:module';const r=createRequire(import.meta.url);" +
  `await import(${JSON.stringify(entry)});` +
  "const p=new Set(Object.keys(r.cache).map(k=>(k.match(/node_modules\\/((@[^/]+\\/)?[^/]+)/)||[])[1]).filter(Boolean));" +
  'process.stdout.write(JSON.stringify([Object.keys(r.cache).length,[...p].sort()]));';
const wall: number[] = [];
const cpu: number[] = [];
execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir }); // warm the file cache
for (let i = 0; i < runs; i++) {
  const [w, c] = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8' })) as [number, number];
  wall.push(w);
  cpu.push(c);
}
const f = (x: number): string => x.toFixed(0);
const summary = (xs: number[]): string => {
  xs.sort((a, b) => a - b);
  return `median ${f(xs[Math.floor(xs.length / 2)]!)} ms (min ${f(xs[0]!)}, max ${f(xs.at(-1)!)})`;
};
console.log(`import '${entry}' from ${dir}, ${runs} runs: wall ${summary(wall)}; cpu ${summary(cpu)}`);
const [count, packages] = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', census], { cwd: dir, encoding: 'utf8' })) as [number, string[]];
console.log(`  ${count} CommonJS modules from ${packages.length} packages: ${packages.join(', ')}`);
