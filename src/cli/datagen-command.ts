import { Command, Option } from 'commander';
import { genContext } from '../export/data-gen.js';
import { ParserArgs } from '../export/parser-args.js';
import { genRandomDataFile } from '../export/random-data-file.js';
import { checkOutputFile, featureArgs, list, positiveInt, positiveIntList, withFeatureOptions, withMkdir } from './options.js';
import { progressBar } from './progress.js';

export function datagenCommand(): Command {
  const cmd = new Command('datagen')
    .description('write a Monolith data file of random Instances, Examples or ExampleBatches')
    .requiredOption('-o, --output <path>', 'data file to write')
    .addOption(new Option('--variant-type <type>', 'record type').choices(['instance', 'example', 'example_batch']).default('instance'))
    .option('--batch-size <n>', 'records per batch (rows of an ExampleBatch)', positiveInt, 64)
    .option('--num-batch <n>', 'batches to write', positiveInt, 128)
    .option('--sparse-features <names>', 'sparse feature names (Example, ExampleBatch)', list)
    .option('--fidv1-features <slots>', 'fid v1 slots (Instance)', positiveIntList)
    .option('--fidv2-features <names>', 'fid v2 feature names (Instance)', list)
    .option('--actions <values>', 'candidate LineId.actions values', positiveIntList)
    .option('--no-sort-id', 'write a lagrangex header instead of a sort-id header')
    .option('--source <name>', 'data source name hashed into the lagrangex header')
    .option('--kafka-dump', 'add a kafka dump word to each header', false)
    .option('--kafka-dump-prefix', 'add a kafka dump prefix to each header', false);
  return withMkdir(withFeatureOptions(cmd, 0.5)).action(async (o) => {
      checkOutputFile(o.output, '--output', o.mkdir);
      const args = new ParserArgs({
        variantType: o.variantType,
        batchSize: o.batchSize,
        sparseFeatures: o.sparseFeatures,
        fidv1Features: o.fidv1Features ?? (o.variantType === 'instance' && !o.fidv2Features ? [1, 2, 3, 200] : undefined),
        fidv2Features: o.fidv2Features,
        ...featureArgs(o),
      });
      const bar = progressBar('datagen', o.numBatch);
      try {
        const n = await genRandomDataFile(o.output, genContext(o.seed, { actions: o.actions }), args, {
          numBatch: o.numBatch,
          sortId: o.sortId,
          source: o.source,
          kafkaDump: o.kafkaDump,
          kafkaDumpPrefix: o.kafkaDumpPrefix,
          onBatch: (done) => bar.update(done),
        });
        bar.stop();
        const layout = o.sortId ? `sort-id header${o.kafkaDump ? ' + kafka dump' : ''}${o.kafkaDumpPrefix ? ' + kafka dump prefix' : ''}` : 'lagrangex header';
        process.stdout.write(`wrote ${n} ${o.variantType} records (${layout}) to ${o.output}\n`);
      } finally {
        bar.stop();
      }
    });
}
