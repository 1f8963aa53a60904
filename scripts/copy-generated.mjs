#!/usr/bin/env node
// tsc does not copy the generated JavaScript/JSON of src/gen into dist; this does.
// Usage: copy-generated.mjs [outDir] (default dist).
import { cpSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(root, 'src', 'gen');
const to = join(root, process.argv[2] ?? 'dist', 'src', 'gen');
mkdirSync(to, { recursive: true });
cpSync(from, to, { recursive: true, filter: (src) => !src.endsWith('.ts') || src.endsWith('.d.ts') });
