import { Command } from 'commander';
import { basename, dirname } from 'node:path';
import { writeFileAtomic } from '../io/atomic-file.js';
import { renderExportHtml } from '../export/visualizer.js';
import { resolveExportDir } from '../serving/load-export.js';
import { checkOutputFile, existingDir, withMkdir } from './options.js';

export function visualizeCommand(): Command {
  const cmd = new Command('visualize')
    .description('write a self-contained HTML page picturing an export (signatures, tables, dense layers)')
    .argument('<export_dir>', 'export directory (or a base of versions)', existingDir)
    .option('--output <file>', 'HTML file to write (default: <model>-<version>.html in the current directory)');
  return withMkdir(cmd).action(async (path: string, o) => {
    if (o.output !== undefined) checkOutputFile(o.output, '--output', o.mkdir);
    const dir = await resolveExportDir(path);
    const out = o.output ?? `${basename(dirname(dir))}-${basename(dir)}.html`;
    await writeFileAtomic(out, await renderExportHtml(dir));
    process.stdout.write(`wrote ${out}\n`);
  });
}
