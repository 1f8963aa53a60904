/**
 * `npm run bench`: runs every benchmark and writes bench/RESULTS.md (each section
 * also in its own bench/RESULTS-<name>.md). Every figure is a ratio against a
 * baseline measured in the same run, on the machine described at the top.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machineInfo, run as runFormats } from './formats.js';

const root = join(new URL('.', import.meta.url).pathname, '..', '..');

const sections: { name: string; markdown: string }[] = [];
const formats = await runFormats();
sections.push({ name: 'formats', markdown: formats.markdown });

const m = machineInfo();
const head = [
  '# Benchmark results',
  '',
  `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${JSON.stringify(m)}.`,
  'Absolute figures on these shared 2-core machines drift by up to 2× between runs; compare the ratios, which are measured in the same run.',
  '',
];
// Each section's headings move one level down under this file's title.
const body = sections.map((s) => s.markdown.replace(/^#/gm, '##'));
writeFileSync(join(root, 'bench', 'RESULTS.md'), `${head.join('\n')}\n${body.join('\n')}`);
process.stderr.write('bench: wrote bench/RESULTS.md\n');
