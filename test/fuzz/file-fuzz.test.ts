import test from 'ava';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// Seeded mutations of every file kind the project reads, in a child process
// with a capped heap, a watched resident size and a timeout: each case must end
// with valid data or a FormatError naming the file. `npm run fuzz` runs the
// long mode (MONOLITH_FUZZ_CASES mutations per kind).

const RUNNER = fileURLToPath(new URL('./file-fuzz-runner.js', import.meta.url));
const CASES = Number(process.env.MONOLITH_FUZZ_CASES ?? 30);
const TIMEOUT_MS = Number(process.env.MONOLITH_FUZZ_TIMEOUT_MS ?? 90_000);

interface Summary {
  cases: number;
  valid: number;
  typed: number;
  kinds: string[];
  peakGrowthMiB: number;
  failures: { kind: string; case: number; mutation: string; problem: string }[];
}

function runFuzz(seed: number): Promise<{ code: number | null; out: string; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--max-old-space-size=384', RUNNER], {
      env: { ...process.env, MONOLITH_FUZZ_SEED: String(seed), MONOLITH_FUZZ_CASES: String(CASES), MONOLITH_FUZZ_MEM_MB: '256', MONOLITH_LOG: 'error' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, TIMEOUT_MS);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, timedOut });
    });
  });
}

test('fuzz: every file kind, damaged, reads as valid data or a typed error naming the file, within memory and time caps', async (t) => {
  const { code, out, timedOut } = await runFuzz(1);
  const lastCase = out.split('\n').filter((l) => l.startsWith('case ')).pop();
  t.false(timedOut, `hung or too slow; last case started: ${lastCase}`);
  const line = out.split('\n').find((l) => l.startsWith('SUMMARY '));
  t.truthy(line, `no summary (exit ${code}); last case started: ${lastCase}\n${out.slice(-2000)}`);
  const s = JSON.parse(line!.slice(8)) as Summary;
  t.deepEqual(s.failures, []);
  t.is(code, 0);
  t.is(s.cases, s.kinds.length * CASES);
  t.is(s.valid + s.typed, s.cases);
  t.true(s.typed > s.cases / 2, 'most mutations are caught');
  for (const k of ['TFRecord (plain)', 'TFRecord (gzip)', 'record file (lagrangex)', 'example_batch records (fast + reference decoders)', 'EntryDump shard', 'ckpt.info', 'dense checkpoint', 'export manifest', 'warmup file', 'saved_model.pb', 'text format (export state)']) {
    t.true(s.kinds.includes(k), k);
  }
});
