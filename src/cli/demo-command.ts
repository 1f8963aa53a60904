import { Command } from 'commander';
import { runCtrDemo } from '../demo/ctr-demo.js';
import { ConfigError } from '../errors.js';
import { checkOutputDir, intArg, nonNegativeInt, positiveInt } from './options.js';

/** `monolith-ts demo`: the main job end to end (train online, checkpoint, export, serve). */
export function demoCommand(): Command {
  return new Command('demo')
    .description('train DeepFM online on a planted CTR stream with the worker pool, checkpoint, export on save, serve the export over gRPC and query it')
    .option('--workers <n>', 'worker threads (default: the cores)', nonNegativeInt)
    .option('--duration <seconds>', 'seconds of training on the generated stream', positiveInt, 45)
    .option('--max-steps <n>', 'stop after this many steps', positiveInt)
    .option('--batch-size <n>', 'rows per batch', positiveInt, 256)
    .option('--vocab <n>', 'ids per slot of the planted stream', positiveInt, 100)
    .option('--interactions <n>', 'planted pairwise slot interactions', nonNegativeInt, 0)
    .option('--seed <n>', 'random seed', intArg, 1)
    .option('--checkpoint-every <steps>', 'checkpoint (and export) every this many steps', positiveInt, 200)
    .option('--kafka-brokers <list>', 'train from Kafka (bootstrap servers) instead of the generator')
    .option('--topic <name>', 'Kafka topic of serialized Instances')
    .option('--data <files...>', 'train from Monolith record files of Instances instead of the generator')
    .option('--mkdir', 'create a missing parent directory of --out', false)
    .option('--out <dir>', 'directory for checkpoints and exports (default: a new temp directory)')
    .action(async (o) => {
      if (o.out !== undefined) checkOutputDir(o.out, '--out', o.mkdir);
      if (o.kafkaBrokers && !o.topic) throw new ConfigError('--kafka-brokers needs --topic');
      await runCtrDemo({
        workers: o.workers,
        durationSec: o.duration,
        maxSteps: o.maxSteps,
        batchSize: o.batchSize,
        vocabSize: o.vocab,
        interactions: o.interactions,
        seed: o.seed,
        checkpointEverySteps: o.checkpointEvery,
        kafka: o.kafkaBrokers ? { brokers: o.kafkaBrokers, topic: o.topic } : undefined,
        dataFiles: o.data,
        out: o.out,
      });
    });
}
