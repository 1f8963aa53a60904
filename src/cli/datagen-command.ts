import { Command, Option } from 'commander';
import { genContext } from '../export/data-gen.js';
import { ParserArgs } from '../export/parser-args.js';
import { genRandomDataFile } from '../export/random-data-file.js';
import { dtypeList, floatArg, intArg, intList, list } from './options.js';
import { progressBar } from './progress.js';

export function datagenCommand(): Command {
  return new Command('datagen')
    .description('write a Monolith data file of random Instances, Examples or ExampleBatches')
    .requiredOption('-o, --output <path>', 'data file to write')
    .addOption(new Option('--variant-type <type>', 'record type').choices(['instance', 'example', 'example_batch']).default('instance'))
    .option('--batch-size <n>', 'records per batch (rows of an ExampleBatch)', intArg, 64)
    .option('--num-batch <n>', 'batches to write', intArg, 128)
    .option('--sparse-features <names>', 'sparse feature names (Example, ExampleBatch)', list)
    .option('--fidv1-features <slots>', 'fid v1 slots (Instance)', intList)
    .option('--fidv2-features <names>', 'fid v2 feature names (Instance)', list)
    .option('--dense-features <names>', 'dense feature names', list)
    .option('--dense-feature-shapes <shapes>', 'values per dense feature', intList)
    .option('--dense-feature-types <types>', 'dtype per dense feature', dtypeList)
    .option('--extra-features <names>', 'LineId fields to fill', list)
    .option('--extra-feature-shapes <shapes>', 'values per LineId field', intList)
    .option('--drop-rate <p>', 'probability a sparse feature is left empty', floatArg, 0.5)
    .option('--actions <values>', 'candidate LineId.actions values', intList)
    .option('--no-sort-id', 'write a lagrangex header instead of a sort-id header')
    .option('--source <name>', 'data source name hashed into the lagrangex header')
    .option('--kafka-dump', 'add a kafka dump word to each header', false)
    .option('--kafka-dump-prefix', 'add a kafka dump prefix to each header', false)
    .option('--seed <n>', 'random seed', intArg)
    .action(async (o) => {
      const args = new ParserArgs({
        variantType: o.variantType,
        batchSize: o.batchSize,
        sparseFeatures: o.sparseFeatures,
        fidv1Features: o.fidv1Features ?? (o.variantType === 'instance' && !o.fidv2Features ? [1, 2, 3, 200] : undefined),
        fidv2Features: o.fidv2Features,
        denseFeatures: o.denseFeatures,
        denseFeatureShapes: o.denseFeatureShapes,
        denseFeatureTypes: o.denseFeatureTypes,
        extraFeatures: o.extraFeatures,
        extraFeatureShapes: o.extraFeatureShapes,
        dropRate: o.dropRate,
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
