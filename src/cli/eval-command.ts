import { Command } from 'commander';
import { EvalAccumulator } from '../graph/eval-summary.js';
import { withInputFlags } from './input-flags.js';
import { runModelDir } from './model-dir-run.js';
import { nonNegativeInt, positiveInt } from './options.js';

const fmt = (x: number | undefined) => (x === undefined ? 'n/a' : x.toFixed(4));

/** `monolith-ts eval`: loss, AUC per head and calibration of a model dir's newest checkpoint on held-out files. */
export function evalCommand(): Command {
  const cmd = new Command('eval')
    .description("evaluate a model dir's newest checkpoint on held-out record files: loss, AUC per head, calibration (mean prediction / mean label), rows read")
    .requiredOption('--model-dir <dir>', 'checkpoints and monolith-ts-model.json written by train (or demo)')
    .option('--data <files...>', 'held-out record files (read with the stored parse configuration unless flags say otherwise)')
    .option('--model-module <file-or-specifier>', 'override the stored model module')
    .option('--model-options <json>', 'override the stored model options')
    .option('--workers <n>', 'worker threads (0: this thread; default: the cores)', nonNegativeInt)
    .option('--batch-size <n>', 'rows per batch', positiveInt, 1024)
    .option('--json', 'print one JSON object instead of text', false);
  return withInputFlags(cmd).action(async (o) => {
    let acc: EvalAccumulator | undefined;
    const run = await runModelDir(o, 'eval', (spec) => {
      const a = (acc = new EvalAccumulator(spec.heads));
      return (r) => a.add(r);
    });
    const s = acc!.summary();
    if (o.json) {
      process.stdout.write(`${JSON.stringify({ modelDir: o.modelDir, globalStep: run.globalStep, files: run.files, ...s })}\n`);
      return;
    }
    const say = (l: string) => void process.stdout.write(`${l}\n`);
    for (const [f, rows] of Object.entries(run.files)) say(`read ${rows} rows from ${f}`);
    say(`evaluated ${run.spec.name} at global step ${run.globalStep} on ${s.rows} rows`);
    say(`  loss ${fmt(s.loss)}`);
    for (const [name, h] of Object.entries(s.heads)) {
      say(`  ${name}: AUC ${fmt(h.auc)}, mean prediction ${fmt(h.meanPrediction)}, mean label ${fmt(h.meanLabel)}, calibration ${fmt(h.calibration)}`);
    }
  });
}
