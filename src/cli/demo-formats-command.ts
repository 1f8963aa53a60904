import { Command } from 'commander';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { genContext } from '../export/data-gen.js';
import { ParserArgs } from '../export/parser-args.js';
import { genRandomDataFile } from '../export/random-data-file.js';
import { describeWarmupFile, genPredictionLogs, predictionLogsFromFile, writeWarmupFile } from '../export/warmup.js';
import { getExportSaverListenerState, overwriteExportSaverListenerState } from '../export/export-state.js';
import { checkOutputDir, intArg } from './options.js';

const say = (s: string) => process.stdout.write(`${s}\n`);

/**
 * The format tools end to end: random data file → warmup file from it → decoded;
 * random ExampleBatch warmup; an export state file written and read back.
 * (`monolith-ts demo` is the training demo.)
 */
export function demoFormatsCommand(): Command {
  return new Command('demo-formats')
    .description('run the format tools end to end in a temp directory')
    .option('--mkdir', 'create a missing parent directory of --out', false)
    .option('--out <dir>', 'directory for the files (default: a new temp directory)')
    .option('--seed <n>', 'random seed', intArg, 42)
    .action(async (o) => {
      if (o.out !== undefined) checkOutputDir(o.out, '--out', o.mkdir);
      const dir: string = o.out ?? (await mkdtemp(join(tmpdir(), 'monolith-ts-demo-')));
      const ctx = genContext(o.seed);
      const data = join(dir, 'instances.pb');
      const args = new ParserArgs({ variantType: 'instance', batchSize: 32, fidv1Features: [1, 2, 3, 4, 5, 200], dropRate: 0.2 });
      const n = await genRandomDataFile(data, ctx, args, { numBatch: 8 });
      say(`1. wrote ${n} random Instances (sort-id header) to ${data}`);

      const warmup = join(dir, 'model', '1', 'assets.extra', 'tf_serving_warmup_requests');
      const logs = await writeWarmupFile(warmup, predictionLogsFromFile(data, { batchSize: 32, maxRecords: 256, sortId: true, signatureNames: ['serving_default', 'predict'] }));
      say(`2. wrote ${logs} warmup requests from that file to ${warmup}`);

      for await (const text of describeWarmupFile(warmup)) {
        const lines = text.trimEnd().split('\n');
        say(`3. decoded the first one (\`monolith-ts warmup decode\` prints them all):\n   ${lines.slice(0, 16).join('\n   ')}\n   ... (${lines.length - 16} more lines)`);
        break;
      }

      const eb = join(dir, 'example_batch_warmup');
      const ebArgs = new ParserArgs({ variantType: 'example_batch', batchSize: 16, maxRecords: 64, sparseFeatures: ['user_id', 'item_id', 'slot_7'], denseFeatures: ['ctr'], denseFeatureShapes: [2], denseFeatureTypes: ['float32'], modelName: 'demo' });
      const ebLogs = await writeWarmupFile(eb, genPredictionLogs(ctx, ebArgs));
      say(`4. wrote ${ebLogs} random ExampleBatch warmup requests to ${eb}`);

      await overwriteExportSaverListenerState(dir, { entries: [{ exportDir: join(dir, 'model', '1'), globalStep: 1000 }] });
      const state = await getExportSaverListenerState(dir);
      say(`5. export state round trip: ${state.entries.map((e) => `${e.exportDir} @ step ${e.globalStep}`).join(', ')}`);
      say(`files are in ${dir}`);
    });
}
