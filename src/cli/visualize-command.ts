import { Command } from 'commander';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic-file.js';
import { renderExportHtml } from '../export/visualizer.js';
import { resolveExportDir } from '../serving/load-export.js';

export function visualizeCommand(): Command {
  return new Command('visualize')
    .description('write a self-contained HTML page picturing an export (signatures, tables, dense layers)')
    .argument('<export_dir>', 'export directory (or a base of versions)')
    .option('--output <file>', 'HTML file to write (default <export_dir>/model.html)')
    .action(async (path: string, o) => {
      const dir = await resolveExportDir(path);
      const out = o.output ?? join(dir, 'model.html');
      await writeFileAtomic(out, await renderExportHtml(dir));
      process.stdout.write(`wrote ${out}\n`);
    });
}
