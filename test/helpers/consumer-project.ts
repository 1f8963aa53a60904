/**
 * A consumer project that installs monolith-ts the way a user does: from the
 * packed tarball (`npm pack`), without optional dependencies (so no
 * node-rdkafka), with the peers (tfjs, rxjs) and typescript + @types/node
 * taken from the npm cache that `npm ci` filled.
 *
 * The install is cached by the tarball's hash under the OS temp dir: the
 * first test file of a run packs and installs (well under a minute from the
 * cache); later ones (and later runs of an unchanged build) reuse it.
 * Tests write their programs into a fresh folder inside the project with
 * `consumerWorkspace()`, so `monolith-ts` resolves from its node_modules.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../helpers.js';

const run = promisify(execFile);

export interface ConsumerProject {
  /** The project folder (package.json, node_modules/monolith-ts, …). */
  dir: string;
  /** The packed tarball it was installed from. */
  tarball: string;
  /** sha256 of the tarball. */
  hash: string;
}

const CACHE = join(tmpdir(), 'monolith-ts-consumer');
const INSTALL_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund', '--omit=optional', '--loglevel=error'];

/** `npm pack` of the built repository (dist/ must be current: tests run after `npm run build`). */
async function pack(): Promise<{ tarball: string; hash: string }> {
  await mkdir(CACHE, { recursive: true });
  const out = await mkdtemp(join(CACHE, 'pack-'));
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', out], { cwd: ROOT });
  const name = stdout.trim().split('\n').at(-1)!;
  const tarball = join(out, name);
  const hash = createHash('sha256').update(await readFile(tarball)).digest('hex').slice(0, 16);
  const stable = join(CACHE, `${hash}.tgz`);
  await rename(tarball, stable);
  await rm(out, { recursive: true, force: true });
  return { tarball: stable, hash };
}

interface PackageJson {
  version: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}
const readPkg = (dir: string): PackageJson => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;

function devVersion(name: string): string {
  return readPkg(ROOT).devDependencies![name]!;
}

/**
 * `--omit=optional` also drops the per-platform binaries that napi-rs
 * packages (@node-rs/crc32, snappy, …) list as optional dependencies; the
 * ones this machine uses (those installed in the repository) are named
 * explicitly so that only node-rdkafka is left out.
 */
function platformBinaries(): string[] {
  const out: string[] = [];
  for (const dep of Object.keys(readPkg(ROOT).dependencies ?? {})) {
    const opt = readPkg(join(ROOT, 'node_modules', dep)).optionalDependencies ?? {};
    for (const name of Object.keys(opt)) {
      const dir = join(ROOT, 'node_modules', name);
      if (existsSync(join(dir, 'package.json'))) out.push(`${name}@${readPkg(dir).version}`);
    }
  }
  return out;
}

/** Removes installs and tarballs of older builds (untouched for a day). */
async function prune(keep: string): Promise<void> {
  const dayAgo = Date.now() - 24 * 3600_000;
  for (const name of await readdir(CACHE)) {
    const path = join(CACHE, name);
    if (path === keep || name.startsWith('pack-')) continue;
    const st = await stat(path).catch(() => undefined);
    if (st && st.mtimeMs < dayAgo) await rm(path, { recursive: true, force: true });
  }
}

let pending: Promise<ConsumerProject> | undefined;

/** The consumer project of the current build: packed once per process, installed once per tarball hash. */
export function consumerProject(): Promise<ConsumerProject> {
  pending ??= (async () => {
    const { tarball, hash } = await pack();
    const extra = [`typescript@${devVersion('typescript')}`, `@types/node@${devVersion('@types/node')}`, ...platformBinaries()];
    // Keyed by the tarball and the install recipe.
    const key = createHash('sha256').update(hash).update(JSON.stringify([INSTALL_FLAGS, extra])).digest('hex').slice(0, 16);
    const dir = join(CACHE, key);
    await prune(dir);
    if (existsSync(join(dir, '.installed'))) return { dir, tarball, hash };
    // One install per key across the test files ava runs in parallel: the first takes the lock, the others wait for it.
    const lock = `${dir}.lock`;
    const deadline = Date.now() + 10 * 60_000;
    for (;;) {
      try {
        await mkdir(lock);
        break;
      } catch {
        if (existsSync(join(dir, '.installed'))) return { dir, tarball, hash };
        if (Date.now() > deadline) throw new Error(`consumer project: ${lock} held for 10 minutes (remove it if no test is running)`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    try {
      if (existsSync(join(dir, '.installed'))) return { dir, tarball, hash };
      // Install into a scratch folder, then rename: nobody sees a half-installed project.
      const scratch = await mkdtemp(join(CACHE, `install-${key}-`));
      await writeFile(join(scratch, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2));
      await run('npm', ['install', ...INSTALL_FLAGS, tarball, ...extra], { cwd: scratch, maxBuffer: 16 << 20 });
      await writeFile(join(scratch, '.installed'), `${new Date().toISOString()}\n`);
      await rm(dir, { recursive: true, force: true });
      await rename(scratch, dir);
    } finally {
      await rm(lock, { recursive: true, force: true });
    }
    return { dir, tarball, hash };
  })();
  return pending;
}

/** A fresh folder inside the consumer project for one test's sources and outputs. */
export async function consumerWorkspace(project: ConsumerProject, prefix = 'ws-'): Promise<string> {
  return mkdtemp(join(project.dir, prefix));
}

/** tsconfig for user code: strict, Node's ESM resolution (so package.json "exports" and their "types" are what is checked). */
export const CONSUMER_TSCONFIG = {
  compilerOptions: {
    strict: true,
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    skipLibCheck: true, // as `tsc --init` writes it: tfjs-layers' own typings do not pass strict checks
    types: ['node'],
    outDir: 'out',
    rootDir: '.',
  },
};

/** Compiles every .ts file of `ws` with the consumer's own tsc; returns tsc's output (throws with it on errors). */
export async function compileInConsumer(project: ConsumerProject, ws: string): Promise<void> {
  await writeFile(join(ws, 'tsconfig.json'), JSON.stringify({ ...CONSUMER_TSCONFIG, include: ['*.ts'] }, null, 2));
  const tsc = join(project.dir, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    await run(process.execPath, [tsc, '-p', ws], { cwd: ws });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    throw new Error(`tsc --strict failed in ${ws}:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
  }
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program (with `args`) with node (cwd: `cwd`), never throwing on a non-zero exit. */
export async function runNode(file: string, cwd: string, timeoutMs = 120_000, env: NodeJS.ProcessEnv = {}, args: string[] = []): Promise<RunResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [file, ...args], { cwd, timeout: timeoutMs, env: { ...process.env, ...env }, maxBuffer: 16 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number | string; stdout?: string; stderr?: string; killed?: boolean };
    return { code: typeof err.code === 'number' ? err.code : null, stdout: err.stdout ?? '', stderr: `${err.stderr ?? ''}${err.killed ? '\n(killed: timeout)' : ''}` };
  }
}
