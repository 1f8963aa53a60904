#!/usr/bin/env node
// Generates the protobuf codecs and TypeScript types from schemas/*.proto, and the
// flatbuffers batch-header module from schemas/*.fbs. Output goes to src/gen/
// (git-ignored); nothing there is edited by hand. Skips work when the schemas
// have not changed since the last run (a hash of every schema file is stamped).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const schemas = join(root, 'schemas');
const out = join(root, 'src', 'gen');
const bin = (name) => join(root, 'node_modules', '.bin', name);

function walk(dir, ext) {
  const found = [];
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) found.push(...walk(full, ext));
    else if (full.endsWith(ext)) found.push(full);
  }
  return found.sort();
}

const protos = walk(schemas, '.proto').map((p) => relative(schemas, p));
const fbs = walk(schemas, '.fbs');
const generator = readFileSync(fileURLToPath(import.meta.url));
const hash = createHash('sha256').update(generator);
for (const f of [...protos.map((p) => join(schemas, p)), ...fbs]) hash.update(f).update(readFileSync(f));
const stamp = hash.digest('hex');
const stampFile = join(out, '.stamp');
if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp && !process.argv.includes('--force')) {
  process.exit(0);
}
mkdirSync(out, { recursive: true });

function run(cmd, args) {
  execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
}

// Static codecs (fast encode/decode) and their TypeScript declarations.
const protoJs = join(out, 'proto.js');
run(bin('pbjs'), ['-t', 'static-module', '-w', 'es6', '--no-service', '-p', schemas, '-o', protoJs, ...protos]);
// pbjs's es6 wrapper imports a CommonJS namespace, which Node's ESM loader cannot
// see the members of; import the default export (module.exports) instead.
const js = readFileSync(protoJs, 'utf8').replace(
  /import \* as \$protobuf from "protobufjs\/minimal";/,
  'import $protobuf from "protobufjs/minimal.js";',
);
writeFileSync(protoJs, js);
run(bin('pbts'), ['--no-comments', '-o', join(out, 'proto.d.ts'), protoJs]);

// Reflection descriptors (text format, generic printing) as JSON.
run(bin('pbjs'), ['-t', 'json', '--keep-case', '-p', schemas, '-o', join(out, 'schemas.json'), ...protos]);

// Flatbuffers: TypeScript from .fbs with the flatc compiler.
for (const f of fbs) {
  run(process.execPath, [join(root, 'scripts', 'flatc.mjs'), f, out]);
}

writeFileSync(`${stampFile}.tmp`, stamp);
renameSync(`${stampFile}.tmp`, stampFile);
console.error(`gen-schemas: ${protos.length} .proto, ${fbs.length} .fbs -> src/gen/`);
