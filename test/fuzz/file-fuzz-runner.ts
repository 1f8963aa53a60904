/**
 * Seeded mutation fuzzing of every file kind the project reads. Run as a child
 * process (the test starts it with --max-old-space-size and a timeout):
 *   node --max-old-space-size=512 dist/test/fuzz/file-fuzz-runner.js
 * Environment: MONOLITH_FUZZ_SEED (default 1), MONOLITH_FUZZ_CASES (mutations
 * per file kind, default 40), MONOLITH_FUZZ_MEM_MB (growth of resident memory
 * allowed over the run, default 256), MONOLITH_FUZZ_CASE_MS (per case, default 5000).
 * Each case must end with valid data or a FormatError that names a file (and an
 * offset or field where the reader knows one). Prints one line per case start,
 * then a JSON summary; exits 1 when any case failed.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormatError } from '../../src/errors.js';
import { Rng } from '../../src/util/random.js';
import { initBackend } from '../../src/workers/tf-backend.js';
import { fileKinds } from './file-kinds.js';

interface Failure {
  kind: string;
  case: number;
  mutation: string;
  problem: string;
}

const env = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);
const seed = env('MONOLITH_FUZZ_SEED', 1);
const cases = env('MONOLITH_FUZZ_CASES', 40);
const memMb = env('MONOLITH_FUZZ_MEM_MB', 256);
const caseMs = env('MONOLITH_FUZZ_CASE_MS', 5000);

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

async function main(): Promise<void> {
  await initBackend('cpu');
  const kinds = await fileKinds();
  const failures: Failure[] = [];
  const tally = { valid: 0, typed: 0 };
  const root = await mkdtemp(join(tmpdir(), 'monolith-ts-fuzz-'));
  global.gc?.();
  const baseline = process.memoryUsage().rss;
  let peak = 0;
  try {
    for (const [k, kind] of kinds.entries()) {
      const dir = join(root, String(k));
      const valid = await kind.setup(dir);
      await withTimeout(kind.read(dir), caseMs).catch((err) => failures.push({ kind: kind.name, case: -1, mutation: 'none', problem: `valid file rejected: ${(err as Error).message}` }));
      const rng = new Rng(seed * 1000 + k);
      for (let i = 0; i < cases; i++) {
        const m = kind.damage(rng, valid);
        process.stdout.write(`case ${kind.name} #${i}: ${m.name}\n`);
        await writeFile(join(dir, kind.file), m.bytes);
        const fail = (problem: string) => failures.push({ kind: kind.name, case: i, mutation: m.name, problem });
        try {
          await withTimeout(kind.read(dir), caseMs);
          tally.valid++;
        } catch (err) {
          if (!(err instanceof FormatError)) fail(`untyped ${(err as Error)?.name}: ${(err as Error)?.message ?? String(err)}`);
          else if (err.file === undefined) fail(`FormatError without a file: ${err.message}`);
          else tally.typed++;
        }
        const rss = process.memoryUsage().rss - baseline;
        peak = Math.max(peak, rss);
        if (rss > memMb * 2 ** 20) {
          fail(`resident memory grew by ${Math.round(rss / 2 ** 20)} MiB (cap ${memMb})`);
          global.gc?.();
        }
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  const summary = { seed, kinds: kinds.map((k) => k.name), cases: kinds.length * cases, ...tally, peakGrowthMiB: Math.round(peak / 2 ** 20), failures };
  process.stdout.write(`SUMMARY ${JSON.stringify(summary)}\n`);
  process.exitCode = failures.length ? 1 : 0;
}

await main();
