import { Command, Option } from 'commander';
import { genContext } from '../export/data-gen.js';
import { ParserArgs } from '../export/parser-args.js';
import { describeWarmupFile, genPredictionLogs, predictionLogsFromFile, predictionLogsFromRequestFolder, writeWarmupFile } from '../export/warmup.js';
import { checkOutputFile, existingDir, existingFile, featureArgs, list, positiveInt, positiveIntList, withFeatureOptions, withMkdir } from './options.js';
import { ConfigError } from '../errors.js';
import { progressBar } from './progress.js';

type Log = Parameters<typeof writeWarmupFile>[1] extends Iterable<infer T> | AsyncIterable<infer T> ? T : never;

async function* counted<T>(items: Iterable<T> | AsyncIterable<T>, label: string, expected: number): AsyncGenerator<T> {
  const bar = progressBar(label, expected);
  let n = 0;
  try {
    for await (const x of items) {
      bar.update(++n, Math.max(n, expected));
      yield x;
    }
  } finally {
    bar.stop();
  }
}

function genCommand(): Command {
  const cmd = new Command('gen')
    .description('generate a TF Serving warmup file from a Monolith data file (or stdin) or from random features')
    .addOption(new Option('--gen-type <type>', 'where requests come from').choices(['file', 'random']).default('file'))
    .option('--file-name <path>', 'input data file (file mode; - reads stdin)', existingFile)
    .option('--batch-size <n>', 'rows per request', positiveInt, 256)
    .option('--lagrangex-header', 'records carry a lagrangex header', false)
    .option('--kafka-dump-prefix', 'records carry a kafka dump prefix', false)
    .option('--no-has-sort-id', 'records carry no sort-id header')
    .option('--kafka-dump', 'records carry a kafka dump word', false)
    .option('--max-records <n>', 'rows to read at most: floor(max-records / batch-size) requests', positiveInt, 1000)
    .option('--model-name <name>', 'model_spec.name', 'default')
    .option('--signature-names <names>', 'comma-separated signature names (serving_default is always added)', list, ['serving_default'])
    .option('--output-path <path>', 'warmup file to write', '/tmp/tf_warmup_data')
    .addOption(new Option('--variant-type <type>', 'record type').choices(['instance', 'example', 'example_batch']).default('instance'))
    .option('--sparse-features <names>', 'random mode: sparse feature names (fid v2)', list)
    .option('--fidv1-features <slots>', 'random mode, instance: fid v1 slots', positiveIntList);
  return withMkdir(withFeatureOptions(cmd, 0)).action(async (o) => {
      if (o.genType === 'file' && o.fileName === undefined) throw new ConfigError('--gen-type file needs --file-name (- reads stdin)');
      if (o.maxRecords < o.batchSize) throw new ConfigError(`--max-records ${o.maxRecords} is below --batch-size ${o.batchSize}: no request would be written`);
      checkOutputFile(o.outputPath, '--output-path', o.mkdir);
      let logs: Iterable<Log> | AsyncIterable<Log>;
      if (o.genType === 'file') {
        logs = predictionLogsFromFile(o.fileName, {
          variantType: o.variantType,
          batchSize: o.batchSize,
          maxRecords: o.maxRecords,
          modelName: o.modelName,
          signatureNames: o.signatureNames,
          lagrangexHeader: o.lagrangexHeader,
          kafkaDumpPrefix: o.kafkaDumpPrefix,
          sortId: o.hasSortId,
          kafkaDump: o.kafkaDump,
        });
      } else {
        const args = new ParserArgs({
          modelName: o.modelName,
          variantType: o.variantType,
          batchSize: o.batchSize,
          maxRecords: o.maxRecords,
          signatureName: o.signatureNames,
          sparseFeatures: o.sparseFeatures,
          fidv1Features: o.fidv1Features,
          fidv2Features: o.variantType === 'instance' ? o.sparseFeatures : undefined,
          ...featureArgs(o),
        });
        logs = genPredictionLogs(genContext(o.seed), args);
      }
      const n = await writeWarmupFile(o.outputPath, counted(logs, 'warmup', Math.floor(o.maxRecords / o.batchSize)));
      process.stdout.write(`wrote ${n} warmup requests to ${o.outputPath}\n`);
    });
}

function decodeCommand(): Command {
  return new Command('decode')
    .description('print the requests of a warmup file, string_val contents replaced by "..."')
    .argument('[file]', 'warmup file (TFRecord of PredictionLog; - reads stdin)', existingFile)
    .option('--file-name <path>', 'same as the argument', existingFile)
    .action(async (file: string | undefined, o) => {
      const path = file ?? o.fileName;
      if (!path) throw new ConfigError('give the warmup file as an argument or with --file-name (- reads stdin)');
      for await (const text of describeWarmupFile(path)) process.stdout.write(`${text}\n`);
    });
}

function fromExampleBatchCommand(): Command {
  const cmd = new Command('from-example-batch')
    .description('turn a folder of serialized PredictRequest files into a warmup file')
    .requiredOption('--input-folder <dir>', 'folder of serialized PredictRequest files', existingDir)
    .requiredOption('--output-path <path>', 'warmup file to write');
  return withMkdir(cmd).action(async (o) => {
      checkOutputFile(o.outputPath, '--output-path', o.mkdir);
      const n = await writeWarmupFile(o.outputPath, predictionLogsFromRequestFolder(o.inputFolder));
      process.stdout.write(`wrote ${n} warmup requests to ${o.outputPath}\n`);
    });
}

export function warmupCommand(): Command {
  return new Command('warmup').description('TF Serving warmup files').addCommand(genCommand()).addCommand(decodeCommand()).addCommand(fromExampleBatchCommand());
}
