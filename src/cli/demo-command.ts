import { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { runCtrDemo } from '../demo/ctr-demo.js';
import { SyntheticCtr } from '../streams/sources/synthetic-ctr.js';
import type { RecordInput } from '../streams/sources/record-input.js';
import { hasParseFlags, inputFromFlags, withInputFlags } from './input-flags.js';
import { checkOutputDir, fractionArg, nonNegativeInt, positiveInt } from './options.js';

/** With --data or Kafka: the flags' parse configuration; features default to the demo's own columns (slots 1..26, dense `dense` of 13). */
function demoInput(o: Record<string, unknown>): RecordInput | undefined {
  const files = (o.data as string[] | undefined)?.length;
  if (!files && !o.kafkaBrokers) {
    if (o.layout !== undefined || hasParseFlags(o)) throw new ConfigError('--layout and the feature flags describe --data files or a Kafka topic; the generator needs none');
    return undefined;
  }
  if (files && o.layout === undefined) throw new ConfigError('--data needs --layout: how records are framed in the files (plain, sort_id, …); monolith-ts does not guess');
  const base: RecordInput = { format: (o.layout as RecordInput['format'] | undefined) ?? 'message', variant: 'instance', parse: new SyntheticCtr().parseConfig };
  return inputFromFlags(o, base);
}

/** `monolith-ts demo`: the main job end to end (train online, checkpoint, export, serve). */
export function demoCommand(): Command {
  const cmd = new Command('demo')
    .description('train DeepFM online on a planted CTR stream (or your record files / Kafka topic) with the worker pool, checkpoint, export on save, serve the export over gRPC and query it')
    .option('--workers <n>', 'worker threads (default: the cores)', nonNegativeInt)
    .option('--duration <seconds>', 'seconds of training on the generated stream', positiveInt, 45)
    .option('--max-steps <n>', 'stop after this many steps', positiveInt)
    .option('--batch-size <n>', 'rows per batch', positiveInt, 256)
    .option('--vocab <n>', 'ids per slot of the planted stream', positiveInt, 100)
    .option('--interactions <n>', 'planted pairwise slot interactions', nonNegativeInt, 0)
    .option('--seed <n>', 'random seed', nonNegativeInt, 1)
    .option('--checkpoint-every <steps>', 'checkpoint (and export) every this many steps', positiveInt, 200)
    .option('--kafka-brokers <list>', 'train from Kafka (bootstrap servers) instead of the generator')
    .option('--topic <name>', 'Kafka topic of serialized Instances')
    .option('--data <files...>', 'train from record files instead of the generator (needs --layout; features default to slots 1..26 and a 13-wide dense feature "dense")')
    .option('--holdout <fraction>', 'with --data: fraction of the batches held out and scored for the AUC', fractionArg, 0.1)
    .option('--mkdir', 'create a missing parent directory of --out', false)
    .option('--out <dir>', 'directory for checkpoints and exports (default: a new temp directory)');
  return withInputFlags(cmd).action(async (o) => {
    if (o.out !== undefined) checkOutputDir(o.out, '--out', o.mkdir);
    if (o.kafkaBrokers && !o.topic) throw new ConfigError('--kafka-brokers needs --topic');
    const input = demoInput(o);
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
      input,
      holdoutFraction: o.holdout,
      out: o.out,
    });
  });
}
