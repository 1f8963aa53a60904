import { Option, type Command } from 'commander';
import { withInputFlags } from './input-flags.js';
import { nonNegativeInt } from './options.js';

/** The flags of `predict --data` (files, model dir, output, parse configuration). */
export function withPredictDataFlags(cmd: Command): Command {
  return withInputFlags(
    cmd
      .option('--data <files...>', 'record files to score (one output line per row)')
      .option('--model-dir <dir>', 'score through the newest checkpoint here (model and parse configuration from its monolith-ts-model.json)')
      .option('--model-module <file-or-specifier>', 'override the stored model module (--model-dir)')
      .option('--model-options <json>', 'override the stored model options (--model-dir)')
      .option('--workers <n>', 'worker threads for --model-dir (0: this thread; default: the cores)', nonNegativeInt)
      .option('-o, --output <file>', 'where predictions go: FILE.tsv or FILE.jsonl (default: TSV on stdout)')
      .addOption(new Option('--format <format>', 'tsv or jsonl (default: by the --output extension)').choices(['tsv', 'jsonl'])),
  );
}
