import { Command } from 'commander';
import { mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { take, type Observable } from 'rxjs';
import type { Batch, SourceBatch } from '../batch/batch.js';
import { ConfigError } from '../errors.js';
import { ExportSaverListener } from '../export/export-saver-listener.js';
import { StandaloneExporter } from '../export/exporters.js';
import { checkpointParams } from '../export/params-source.js';
import { writeModelSettings } from '../graph/model-settings.js';
import { train, type RecordBatch } from '../graph/training-pipeline.js';
import type { RecordSlice } from '../workers/step-pool.js';
import { trainEpochs, type EpochReport } from '../graph/epoch-training.js';
import { DEFAULT_RARE_ID_COUNT, FirstPassIdCounts } from '../hashtable/first-pass-ids.js';
import { recordInputParser } from '../streams/sources/record-input-parser.js';
import { recordFileBatches, recordFileSlices, recordTopicSlices, recordTopicSource } from '../streams/sources/record-input-source.js';
import { checkModelInput, describeInput, exportedDenseGroups } from '../streams/sources/record-input.js';
import { SyncPublisher } from '../streams/sync/sync-publisher.js';
import { loadModel } from '../workers/load-model.js';
import { ensureTfBackend } from '../serving/tf-backend.js';
import { inputFromFlags, withInputFlags } from './input-flags.js';
import { differsFromStored, modelRefOf, storedRun } from './model-flags.js';
import { nonNegativeInt, positiveInt } from './options.js';
import { checkDataFiles, checkDataFlags } from './run-input.js';
import { redisOptionsFromFlags, withRedisFlags } from './redis-flags.js';

const say = (l: string) => void process.stdout.write(`${l}\n`);

/**
 * The items of `epochs` passes over the files (`make(pass, …)`), each marked with its pass (which scales the L2
 * regularization), with a line per file read. With `firstPass`, the first pass's batches are counted, and later
 * passes leave their rare ids out: batches here, serialized records in the thread that parses them.
 */
function epochsOf<T extends object>(unit: string, epochs: number, make: (pass: number, onFileRead: (file: string, rows: number) => void) => AsyncIterable<T>, firstPass?: FirstPassIdCounts): AsyncIterable<T & { pass: number }> {
  return (async function* () {
    for (let pass = 1; pass <= epochs; pass++) {
      for await (const item of make(pass, (file, rows) => say(`read ${rows} ${unit} from ${file}${epochs > 1 ? ` (epoch ${pass})` : ''}`))) {
        if (!firstPass) yield { ...item, pass };
        else if ('batch' in item) yield { ...item, batch: firstPass.forPass(item.batch as Batch, pass), pass };
        else yield { ...item, rareIds: firstPass, pass };
      }
    }
  })();
}

/** `monolith-ts train`: a model module on record files or a Kafka topic, with checkpoints (and exports) in a model dir. */
export function trainCommand(): Command {
  const cmd = new Command('train')
    .description('train a model module on record files or a Kafka topic; checkpoints, the settings it was built with and (optionally) exports go to --model-dir / --export-base')
    .option('--model-module <file-or-specifier>', 'module exporting createModel(options) (e.g. ./my-model.js or monolith-ts/models/deepfm); default: the one stored in --model-dir')
    .option('--model-options <json>', 'JSON options passed to createModel (default {} or the stored ones)')
    .requiredOption('--model-dir <dir>', 'checkpoints and monolith-ts-model.json; training resumes from the newest checkpoint there')
    .option('--data <files...>', 'record files (see --layout)')
    .option('--kafka-brokers <list>', 'train from a Kafka topic (bootstrap servers) instead of files')
    .option('--topic <name>', 'Kafka topic')
    .option('--group-id <id>', 'Kafka consumer group (default monolith-ts-train)')
    .option('--epochs <n>', 'passes over the files (pass k: the L2 regularization × k)', positiveInt, 1)
    .option('--leave-out-rare-ids <n>', 'with --epochs above 1: passes after the first leave out the ids seen at most n times in the first (0: every id trains in every pass)', nonNegativeInt, DEFAULT_RARE_ID_COUNT)
    .option('--eval-data <files...>', 'held-out record files (same layout): evaluated after every pass; the best pass is the checkpoint kept')
    .option('--patience <n>', 'with --eval-data: stop after this many passes without a better held-out AUC', positiveInt)
    .option('--max-steps <n>', 'stop after this many steps (a Kafka topic has no end)', positiveInt)
    .option('--workers <n>', 'worker threads (0: steps in this thread; default: the cores)', nonNegativeInt)
    .option('--batch-size <n>', 'rows per batch', positiveInt, 256)
    .option('--checkpoint-every <steps>', 'checkpoint every this many steps (and once at the end)', positiveInt, 1000)
    .option('--export-base <dir>', 'export a standalone SavedModel-style version after every checkpoint')
    .option('--deterministic', 'one batch in flight: bit-reproducible training', false)
    .option('--sync-topic <name>', 'publish the rows each step updates (and the dense weights) to this Kafka topic at --kafka-brokers, for `serve --sync-topic`')
    .option('--sync-interval-ms <ms>', 'with --sync-topic: publish updated rows at least this often', positiveInt, 500)
    .option('--sync-dense-every <steps>', 'with --sync-topic: publish the dense weights every this many steps (0: at exports and at the end only)', nonNegativeInt, 100);
  return withRedisFlags(withInputFlags(cmd)).action(async (o) => {
    if (o.syncTopic && !o.kafkaBrokers) throw new ConfigError('--sync-topic needs --kafka-brokers');
    // With --sync-topic and --data, --kafka-brokers names the brokers of the sync topic only.
    const fromTopic = Boolean(o.kafkaBrokers && (o.topic || !o.syncTopic));
    checkDataFlags({ ...o, kafkaBrokers: fromTopic ? o.kafkaBrokers : undefined }, true);
    const redis = redisOptionsFromFlags(o, (name) => cmd.getOptionValueSource(name) === 'cli');
    if (redis && o.evalData) throw new ConfigError('--eval-data (passes over files with held-out evaluation) does not go with --redis-nodes');
    if (o.kafkaSessionTimeoutMs !== undefined && !fromTopic) throw new ConfigError('--kafka-session-timeout-ms needs a Kafka topic to train from (--kafka-brokers and --topic)');
    const { settings, input: storedInput } = await storedRun(o.modelDir);
    const model = modelRefOf(o, settings, o.modelDir);
    const differs = differsFromStored(model, settings);
    if (differs) throw new ConfigError(`${o.modelDir} was trained with another model: ${differs}; use a new --model-dir`);
    const input = inputFromFlags(o, storedInput);
    if (fromTopic && o.epochs !== 1) throw new ConfigError('--epochs is for files; a Kafka topic is read as it comes');
    if (o.epochs === 1 && cmd.getOptionValueSource('leaveOutRareIds') === 'cli') throw new ConfigError('--leave-out-rare-ids acts on the passes after the first: it goes with --epochs above 1');
    await ensureTfBackend();
    const spec = await loadModel(model);
    checkModelInput(spec, input);
    if (o.data) await checkDataFiles(o.data, input, true);
    if (o.evalData) {
      if (!o.data) throw new ConfigError('--eval-data goes with --data (passes over files)');
      await checkDataFiles(o.evalData, input, true);
    } else if (o.patience !== undefined) throw new ConfigError('--patience needs --eval-data');
    if (o.syncTopic && o.evalData) throw new ConfigError('--sync-topic goes with a single run (not --eval-data)');
    await mkdir(o.modelDir, { recursive: true });
    const settingsPath = await writeModelSettings(o.modelDir, { model, input: { ...input } as unknown as Record<string, unknown> });

    const sync = o.syncTopic ? await SyncPublisher.open({ brokers: o.kafkaBrokers, topic: o.syncTopic, flushIntervalMs: o.syncIntervalMs, denseEverySteps: o.syncDenseEvery }) : undefined;
    const syncMark = sync ? { syncMark: () => sync.mark() } : {};
    const listeners = o.exportBase
      ? [new ExportSaverListener({ modelDir: o.modelDir, exporter: new StandaloneExporter({ spec, exportDirBase: o.exportBase, params: checkpointParams(spec, o.modelDir), globalStepAsTimestamp: true, layerModules: [model.url], denseGroups: exportedDenseGroups(input), ...syncMark }) }).asCheckpointListener()]
      : [];
    const workers = o.workers ?? availableParallelism();
    // Later passes leave out the ids seen rarely in the first: this thread parses the first pass and counts its ids.
    const firstPass = o.epochs > 1 && o.leaveOutRareIds > 0 ? new FirstPassIdCounts(o.leaveOutRareIds) : undefined;
    // Worker threads parse their own batches; this thread only reads the records. Not for ExampleBatch (one record
    // holds many rows), nor with Redis (a batch's ids are read before its step).
    const parseInWorkers = !o.evalData && workers > 0 && !redis && input.variant !== 'example_batch' ? recordInputParser(input) : undefined;
    say(`training ${spec.name} on ${fromTopic ? `Kafka topic ${o.topic} at ${o.kafkaBrokers}` : `${o.data.length} file(s)`} (${describeInput(input)})`);
    say(`  ${workers} worker thread(s)${parseInWorkers ? ` parsing their own batches${firstPass ? ' from the second pass on (this thread parses the first and counts its ids)' : ''}` : ''}, batches of ${o.batchSize}, checkpoints in ${o.modelDir}${o.exportBase ? `, exports in ${o.exportBase}` : ''}${sync ? `, updates published to Kafka topic ${o.syncTopic}` : ''}`);
    if (firstPass) say(`  passes after the first leave out the ids seen at most ${firstPass.maxCount} time(s) in the first`);
    if (redis) say(`  parameters in the Redis Cluster at ${redis.nodes.join(',')}, as ${redis.role} ${redis.trainerIndex}${redis.role === 'worker' ? ' (no checkpoints or exports)' : ''}; rows at most ${redis.stalenessMs} ms stale, dense synced every ${redis.denseSyncSteps} steps or ${redis.denseSyncMs} ms`);
    const unit = input.variant === 'example_batch' ? 'rows' : 'records';
    if (o.evalData) {
      const r = await trainEpochs({
        model, workers, deterministic: o.deterministic, epochs: o.epochs, patience: o.patience, bestCheckpointDir: o.modelDir, leaveOutRareIds: o.leaveOutRareIds,
        trainSource: (e) => recordFileBatches({ files: o.data, input, batchSize: o.batchSize, onFileRead: (file, rows) => say(`read ${rows} ${unit} from ${file} (epoch ${e})`) }),
        heldOut: () => recordFileBatches({ files: o.evalData, input, batchSize: o.batchSize }),
        onEpoch: (e: EpochReport) => say(`epoch ${e.epoch}: train loss ${e.trainLoss.toFixed(4)}, held-out loss ${e.heldOutLoss.toFixed(4)}, auc ${e.heldOutAuc.toFixed(4)}, calibration ${e.calibration.toFixed(3)}${e.overfitting ? ' (overfitting: held-out AUC fell while training loss fell)' : ''}`),
      });
      say(`best pass ${r.best.epoch} (held-out auc ${r.best.heldOutAuc.toFixed(4)}, global step ${r.best.globalStep}) kept in ${o.modelDir}${r.stoppedEarly ? '; stopped early' : ''}`);
      for (const l of listeners) await l.afterSave(o.modelDir, r.best.globalStep);
      say(`settings ${settingsPath}`);
      return;
    }
    let source: AsyncIterable<SourceBatch | RecordSlice> | Observable<SourceBatch | RecordBatch>;
    if (fromTopic) {
      const read = { brokers: o.kafkaBrokers, topic: o.topic, groupId: o.groupId ?? 'monolith-ts-train', input, batchSize: o.batchSize, consumerConfig: o.kafkaSessionTimeoutMs ? { 'session.timeout.ms': o.kafkaSessionTimeoutMs, 'heartbeat.interval.ms': Math.max(100, Math.floor(o.kafkaSessionTimeoutMs / 5)) } : undefined };
      const topic: Observable<SourceBatch | RecordBatch> = parseInWorkers ? recordTopicSlices(read) : recordTopicSource(read);
      source = o.maxSteps ? topic.pipe(take(o.maxSteps)) : topic;
    } else {
      const read = { files: o.data, input, batchSize: o.batchSize };
      const files: AsyncIterable<SourceBatch | RecordSlice> = epochsOf<SourceBatch | RecordSlice>(
        unit,
        o.epochs,
        (pass, onFileRead) => (parseInWorkers && !(firstPass && pass === 1) ? recordFileSlices({ ...read, onFileRead }) : recordFileBatches({ ...read, onFileRead })),
        firstPass,
      );
      source = o.maxSteps ? limit(files, o.maxSteps) : files;
    }
    let s;
    try {
      s = await train({ model, source, workers, parseInWorkers, deterministic: o.deterministic, redis, checkpoint: { dir: o.modelDir, everySteps: o.checkpointEvery, listeners }, ...(sync ? { hooks: [sync.operator()] } : {}) });
    } finally {
      await sync?.close();
    }
    if (sync) say(`published ${sync.counts.rows} updated rows in ${sync.counts.rowMessages} messages and the dense weights ${sync.counts.denseMessages} times to ${o.syncTopic}`);
    if (s.restoredStep !== undefined) say(`  resumed from the checkpoint of step ${s.restoredStep}`);
    say(`trained ${s.steps} steps, ${s.examples} examples, global step ${s.globalStep}, last loss ${s.lastLoss?.toFixed(4) ?? 'n/a'}`);
    say(`settings ${settingsPath}`);
  });
}

async function* limit<T>(src: AsyncIterable<T>, n: number): AsyncGenerator<T> {
  let i = 0;
  if (n <= 0) return;
  for await (const x of src) {
    yield x;
    if (++i >= n) return;
  }
}
