#!/usr/bin/env node
// Compiles every AssemblyScript module in wasm/*.ts to dist/wasm/<name>.wasm.
// The modules import one shared memory (env.memory), so the same compiled
// module runs over the same bytes in every worker thread.
// Usage: build-wasm.mjs [outDir] (default dist). Skips a module whose .wasm is newer than every source.
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'wasm');
const out = join(root, process.argv[2] ?? 'dist', 'wasm');
mkdirSync(out, { recursive: true });

export const FLAGS = [
  '-O3', '--noAssert', '--runtime', 'stub',
  '--importMemory', '--sharedMemory', '--initialMemory', '1', '--maximumMemory', '65536', '--noExportMemory',
  '--enable', 'simd', '--enable', 'threads',
];

const sources = readdirSync(src).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
const newest = Math.max(...sources.map((f) => statSync(join(src, f)).mtimeMs), statSync(fileURLToPath(import.meta.url)).mtimeMs);
for (const f of sources) {
  // Files starting with '_' are shared code imported by the modules, not modules themselves.
  if (f.startsWith('_')) continue;
  const target = join(out, f.replace(/\.ts$/, '.wasm'));
  let fresh = false;
  try { fresh = statSync(target).mtimeMs > newest; } catch { /* not built yet */ }
  if (fresh) continue;
  const { error, stderr } = await asc.main([join(src, f), '-o', target, ...FLAGS]);
  if (error) {
    process.stderr.write(stderr.toString());
    throw new Error(`build-wasm: ${f}: ${error.message}`);
  }
}
