/**
 * Parameter-sync latency: from the end of the train step that updated a row to
 * the moment a serving replica has applied it (its next prediction reads the
 * new value). One process: a DeepFM pipeline trains in a worker thread on a
 * paced synthetic stream with a SyncPublisher hook; a SyncSubscriber applies
 * the topic (a librdkafka mock cluster on loopback) to an export of the same
 * model loaded for serving. Every (table, id) update is timed from its step's
 * result to the first applied message read after it.
 *
 *   node dist/bench/sync-latency.js [--quick] [--steps=400] [--step-ms=25] [--interval-ms=100]
 */
import { concatMap, lastValueFrom, map, timer } from 'rxjs';
import { cpus, loadavg } from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Kafka from 'node-rdkafka';
import { TrainingPipeline, syntheticCtrSource, type StepResult } from 'monolith-ts';
import { SyncPublisher, SyncSubscriber } from 'monolith-ts/kafka';
import { StandaloneExporter } from '../src/export/exporters.js';
import { sharedParams } from '../src/export/params-source.js';
import { loadExport } from '../src/serving/load-export.js';

export interface SyncLatencyOptions {
  steps: number;
  /** Pause between batches (the trainer's pace). */
  stepMs: number;
  /** The publisher's flush interval. */
  intervalMs: number;
}

const pct = (xs: number[], p: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]! : NaN);

async function mockKafka(): Promise<{ bootstrap: string; close(): Promise<void> }> {
  const holder = new Kafka.Producer({ 'test.mock.num.brokers': 1, 'bootstrap.servers': 'mock:9092' } as Kafka.ProducerGlobalConfig);
  const md = await new Promise<Kafka.Metadata>((res, rej) => holder.connect({ timeout: 10_000 }, (e, m) => (e ? rej(e) : res(m))));
  return { bootstrap: `${md.brokers[0]!.host}:${md.brokers[0]!.port}`, close: () => new Promise((r) => holder.disconnect(5000, () => r())) };
}

export async function runSyncLatency(o: SyncLatencyOptions): Promise<string> {
  const started = new Date().toISOString();
  const load0 = loadavg();
  const kafka = await mockKafka();
  const dir = await mkdtemp(join(tmpdir(), 'sync-latency-'));
  const pub = await SyncPublisher.open({ brokers: kafka.bootstrap, topic: 'params', flushIntervalMs: o.intervalMs, denseEverySteps: 20 });
  const since = new Map<string, number>();
  const latencies: number[] = [];
  const noteUpdates = (r: StepResult) => {
    const t = Date.now();
    for (const { table, fids: w } of r.sparseUpdates ?? []) for (let i = 0; i < w.length; i += 2) if (!since.has(`${table}/${w[i]}/${w[i + 1]}`)) since.set(`${table}/${w[i]}/${w[i + 1]}`, t);
    return r;
  };
  const source = syntheticCtrSource({ seed: 5, sparseSlots: 8, vocabSize: 2000, batchSize: 64, batches: o.steps }).pipe(concatMap((b) => timer(o.stepMs).pipe(map(() => b))));
  const p = await TrainingPipeline.create({
    model: { url: 'monolith-ts/models/deepfm', options: { sparseSlots: 8, hidden: [16], embeddingDim: 8 } },
    source,
    workers: 1,
    hooks: [{ name: 'timing', make: () => map(noteUpdates), sparseUpdates: true }, pub.operator()],
  });
  const exportDir = await new StandaloneExporter({ spec: p.spec, exportDirBase: dir, params: sharedParams(p.spec, p.tables, p.dense), syncMark: () => pub.mark(), warmupFile: false }).exportSavedModel({ globalStep: 0 });
  const model = await loadExport(exportDir, { trialLoadTimeoutMs: 0 });
  const sub = await SyncSubscriber.start({
    brokers: kafka.bootstrap,
    topic: 'params',
    target: () => model,
    onApplied: (msg) => {
      if (msg.kind !== 'rows') return;
      const now = Date.now();
      for (let i = 0; i < msg.ids.length; i += 2) {
        const key = `${msg.table}/${msg.ids[i]}/${msg.ids[i + 1]}`;
        const t = since.get(key);
        if (t !== undefined && msg.publishedAt >= t) {
          latencies.push(now - t);
          since.delete(key);
        }
      }
    },
  });
  try {
    await lastValueFrom(p.run());
    const deadline = Date.now() + 30_000;
    while (since.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  } finally {
    await p.close();
    await pub.close();
    await sub.stop();
    model.dispose();
    await kafka.close();
    await rm(dir, { recursive: true, force: true });
  }
  const load1 = loadavg();
  return [
    `Command: \`node dist/bench/sync-latency.js --steps=${o.steps} --step-ms=${o.stepMs} --interval-ms=${o.intervalMs}\` — ${started}; ${cpus()[0]?.model ?? '?'}, ${cpus().length} vCPUs, Node ${process.version}.`,
    `Load average (1/5/15 min) at start ${load0.map((x) => x.toFixed(1)).join('/')}, at end ${load1.map((x) => x.toFixed(1)).join('/')}.`,
    '',
    '| row updates timed | never applied | p50 ms | p99 ms | max ms | rows published | messages |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    `| ${latencies.length} | ${since.size} | ${pct(latencies, 50).toFixed(0)} | ${pct(latencies, 99).toFixed(0)} | ${Math.max(...latencies).toFixed(0)} | ${pub.counts.rows} | ${pub.counts.rowMessages + pub.counts.denseMessages} |`,
  ].join('\n');
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const quick = process.argv.includes('--quick');
  const arg = (k: string, d: number) => Number(process.argv.find((a) => a.startsWith(`--${k}=`))?.split('=')[1] ?? d);
  console.log(await runSyncLatency({ steps: arg('steps', quick ? 60 : 400), stepMs: arg('step-ms', 25), intervalMs: arg('interval-ms', 100) }));
}
