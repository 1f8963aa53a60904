import { Command } from 'commander';
import { statSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { DEFAULT_SERVING_SIGNATURE_DEF_KEY } from '../export/parser-args.js';
import { Rng } from '../util/random.js';
import { SyncSubscriber } from '../streams/sync/sync-subscriber.js';
import { demoInputs } from '../serving/demo-inputs.js';
import { loadExport } from '../serving/load-export.js';
import { readModelConfigFile } from '../serving/model-config-file.js';
import { PredictionClient } from '../serving/prediction-client.js';
import { PredictionServer } from '../serving/prediction-server.js';
import { shapeOf, tensorToNumbers } from '../serving/tensor-proto.js';
import type { tensorflow } from '../proto.js';
import { existingDir, intArg, intList, list, nonNegativeInt, portArg, positiveInt, positiveIntList } from './options.js';
import { predictData } from './predict-data.js';
import { withPredictDataFlags } from './predict-flags.js';

function printOutputs(outputs: Record<string, tensorflow.ITensorProto>): void {
  const o = Object.fromEntries(Object.entries(outputs).map(([k, t]) => [k, { shape: shapeOf(t), values: tensorToNumbers(t) }]));
  process.stdout.write(`${JSON.stringify(o)}\n`);
}

const ROLES = ['standalone', 'entry', 'ps'] as const;

function roleArg(v: string): (typeof ROLES)[number] {
  if (!(ROLES as readonly string[]).includes(v)) throw new ConfigError(`--role ${v}: expected one of ${ROLES.join(', ')}`);
  return v as (typeof ROLES)[number];
}

function hostPortList(v: string): string[] {
  const addrs = list(v);
  for (const a of addrs) if (!/^[^\s:]+:\d{1,5}$/.test(a)) throw new ConfigError(`--ps-addrs ${a}: expected host:port`);
  return addrs;
}

function versionLabel(v: string, acc: Record<string, number>): Record<string, number> {
  const m = /^([^=]+)=(\d+)$/.exec(v);
  if (!m) throw new ConfigError(`--version-label ${v}: expected <label>=<version>`);
  return { ...acc, [m[1]!]: Number(m[2]) };
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('serve the newest export of a model over the TF Serving gRPC API (Predict, GetModelMetadata) and REST API; picks up newer versions')
    .option('--model-base-path <dir>', 'directory of export versions (for a distributed export: <base>/entry)', existingDir)
    .option('--model-config-file <file>', "TF Serving's ModelServerConfig in text format: one model's name, base_path and version_labels (instead of --model-base-path)")
    .option('--model-name <name>', 'model_spec.name clients use (default: default)')
    .option('--host <host>', 'address to bind (127.0.0.1: this machine only)', '127.0.0.1')
    .option('--port <n>', 'port (0: any free port)', portArg, 8500)
    .option('--poll-interval-ms <ms>', 'how often to look for a newer version (0: never)', nonNegativeInt, 30000)
    .option('--file-system-poll-wait-seconds <s>', 'TF Serving spelling of the poll interval, in seconds (0: never)', nonNegativeInt)
    .option('--no-warmup', 'do not run assets.extra/tf_serving_warmup_requests before serving')
    .option('--rest-api-port <n>', 'port of the REST API (0: any free port; default: no REST API)', portArg)
    .option('--max-batch-rows <n>', 'rows one request may carry (more: INVALID_ARGUMENT)', positiveInt, 8192)
    .option('--max-message-bytes <n>', 'largest request, bytes', positiveInt, 16 << 20)
    .option('--enable-serialization-as-tensor-content', 'float outputs in tensor_content instead of float_val', false)
    .option('--enable-batching', 'batch concurrent small serving_default requests into one model run', false)
    .option('--max-batch-size <n>', 'with --enable-batching: rows per merged run', positiveInt, 128)
    .option('--batch-timeout-micros <n>', 'with --enable-batching: how long a request waits for others', nonNegativeInt, 1000)
    .option('--role <role>', 'standalone (all tables in this process), entry (a distributed entry; tables looked up in --ps-addrs) or ps (one parameter server of a distributed export)', roleArg, 'standalone')
    .option('--ps-addrs <host:port,...>', 'with --role entry: the parameter-server processes, ps_0 first', hostPortList)
    .option('--ps-model-name <name>', 'with --role entry: the model name the parameter servers serve under', 'default')
    .option('--version-label <label=version>', 'a version_label clients may name (repeatable)', (v: string, acc: Record<string, number>) => versionLabel(v, acc), {})
    .option('--sync-topic <name>', 'apply the parameter updates a trainer publishes (train --sync-topic) to the served model, from the offsets its export recorded')
    .option('--kafka-brokers <list>', 'with --sync-topic: bootstrap servers of the sync topic')
    .action(async (o) => {
      if (o.syncTopic && !o.kafkaBrokers) throw new ConfigError('--sync-topic needs --kafka-brokers');
      if (!o.syncTopic && o.kafkaBrokers) throw new ConfigError('--kafka-brokers goes with --sync-topic');
      const config = o.modelConfigFile ? await readModelConfigFile(o.modelConfigFile) : undefined;
      if (config && (o.modelBasePath || o.modelName)) throw new ConfigError('--model-config-file names the model and its base path: leave out --model-base-path and --model-name');
      if (!config && !o.modelBasePath) throw new ConfigError('serve needs --model-base-path (or --model-config-file)');
      if (config && !statSync(config.basePath, { throwIfNoEntry: false })?.isDirectory()) throw new ConfigError(`--model-config-file ${o.modelConfigFile}: base_path ${config.basePath} is not a directory`);
      if (o.role === 'entry' && !o.psAddrs) throw new ConfigError('--role entry needs --ps-addrs (one host:port per parameter server, ps_0 first)');
      if (o.role !== 'entry' && o.psAddrs) throw new ConfigError('--ps-addrs goes with --role entry');
      const server = await PredictionServer.start({
        modelBasePath: config?.basePath ?? o.modelBasePath,
        modelName: config?.name ?? o.modelName ?? 'default',
        host: o.host,
        port: o.port,
        ...(o.restApiPort !== undefined ? { restPort: o.restApiPort } : {}),
        pollIntervalMs: o.fileSystemPollWaitSeconds !== undefined ? o.fileSystemPollWaitSeconds * 1000 : o.pollIntervalMs,
        warmup: o.warmup,
        maxBatchRows: o.maxBatchRows,
        maxMessageBytes: o.maxMessageBytes,
        enableSerializationAsTensorContent: o.enableSerializationAsTensorContent,
        batching: o.enableBatching ? { maxBatchSize: o.maxBatchSize, batchTimeoutMicros: o.batchTimeoutMicros } : false,
        versionLabels: { ...config?.versionLabels, ...o.versionLabel },
        ...(o.role === 'entry' ? { psAddrs: o.psAddrs, psModelName: o.psModelName } : {}),
      });
      const { kind } = server.current.manifest;
      if ((o.role === 'ps') !== (kind === 'ps')) {
        const dir = server.current.dir;
        await server.stop();
        throw new ConfigError(`--role ${o.role}: ${dir} is a ${kind} export${kind === 'ps' ? ' (serve it with --role ps)' : ''}`);
      }
      process.stdout.write(`serving ${server.modelName} version ${server.current.version} on ${server.address}\n`);
      if (server.restAddress) process.stdout.write(`REST API on http://${server.restAddress}\n`);
      const sync = o.syncTopic ? await SyncSubscriber.start({ brokers: o.kafkaBrokers, topic: o.syncTopic, target: () => server.current }) : undefined;
      if (sync) process.stdout.write(`applying updates from Kafka topic ${o.syncTopic} at ${o.kafkaBrokers}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => void (sync?.stop() ?? Promise.resolve()).then(() => server.stop()).then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}

export function predictCommand(): Command {
  const cmd = new Command('predict')
    .description('score record files (--data) through a checkpoint or an export and write one line per row; without --data: predict on random inputs built from a signature (demo_predictor)')
    .option('--saved-model-path <dir>', 'export directory (or a base of versions)', existingDir)
    .option('--signature <name>', 'signature to run (random inputs)', DEFAULT_SERVING_SIGNATURE_DEF_KEY)
    .option('--batch-size <n>', 'rows per batch', positiveInt, 128)
    .option('--seed <n>', 'random seed (random inputs)', intArg, 0);
  return withPredictDataFlags(cmd).action(async (o) => {
      if (o.data) return predictData(o);
      if (!o.savedModelPath) throw new ConfigError('predict needs --saved-model-path (random inputs) or --data with --model-dir / --saved-model-path');
      const model = await loadExport(o.savedModelPath);
      const sig = model.signatures.find((s) => s.name === o.signature);
      if (!sig) throw new ConfigError(`signature "${o.signature}" not in the export (${model.signatures.map((s) => s.name).join(', ')})`);
      const slots = [...new Set(model.manifest.features.map((f) => f.slot))];
      const featureNames = new Map(model.manifest.features.map((f) => [f.slot, f.name]));
      const inputs = demoInputs(sig, { batchSize: o.batchSize, rng: new Rng(o.seed), slots, featureNames, maxVocab: 100 });
      const res = await model.predict({ modelSpec: { name: model.manifest.modelName, signatureName: sig.name }, inputs });
      printOutputs(res.outputs as Record<string, tensorflow.ITensorProto>);
    });
}

export function predictClientCommand(): Command {
  return new Command('predict-client')
    .description('query a TF Serving API server: GetModelMetadata, then Predict with random inputs (demo_predictor_client)')
    .option('--server <host:port>', 'server address', 'localhost:8500')
    .option('--model-name <name>', 'model name', 'default')
    .option('--signature-name <name>', 'signature', DEFAULT_SERVING_SIGNATURE_DEF_KEY)
    .option('--batch-size <n>', 'rows (replaces -1 dimensions)', positiveInt, 8)
    .option('--slots <slots>', 'fid-v1 slots of the random Instances', positiveIntList, [1, 2, 3, 4, 5])
    .option('--use-example', 'send Examples for string inputs', false)
    .option('--timeout-ms <ms>', 'deadline of each call', positiveInt, 30000)
    .option('--seed <n>', 'random seed', intArg, 0)
    .action(async (o) => {
      const client = new PredictionClient(o.server);
      try {
        const sigs = await client.signatures(o.modelName, { timeoutMs: o.timeoutMs });
        process.stderr.write(`signatures: ${[...sigs.keys()].join(', ')}\n`);
        const sig = sigs.get(o.signatureName);
        if (!sig) throw new ConfigError(`signature "${o.signatureName}" not served (${[...sigs.keys()].join(', ')})`);
        const inputs = demoInputs(sig, { batchSize: o.batchSize, rng: new Rng(o.seed), slots: o.slots, ...(o.useExample ? { stringRecords: 'example' as const } : {}) });
        const res = await client.predict({ modelSpec: { name: o.modelName, signatureName: o.signatureName }, inputs }, { timeoutMs: o.timeoutMs });
        printOutputs(res.outputs);
      } finally {
        client.close();
      }
    });
}
