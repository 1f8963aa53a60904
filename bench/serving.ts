/**
 * Serving benchmark: Predict over gRPC and REST on loopback (our
 * PredictionServer, PredictionClient and fetch in one process) next to
 * in-process predict on the same loaded export, at batch 1, 8 and 128, with
 * 1 and 4 concurrent clients, and with server-side batching, in the same run.
 *
 *   node dist/bench/serving.js [--seconds 3] [--out bench/RESULTS-serving.md]
 */
import { writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as tfl from '@tensorflow/tfjs-layers';
import Long from 'long';
import { EmbeddingHashTable } from '../src/hashtable/embedding-hash-table.js';
import { StandaloneExporter } from '../src/export/exporters.js';
import { liveParams } from '../src/export/params-source.js';
import { stringTensor } from '../src/export/warmup.js';
import { makeFidV1 } from '../src/io/fid.js';
import type { ModelSpec } from '../src/model/model-spec.js';
import { parser } from '../src/proto.js';
import { PredictionClient } from '../src/serving/prediction-client.js';
import { PredictionServer } from '../src/serving/prediction-server.js';
import { ensureTfBackend } from '../src/serving/tf-backend.js';
import { Rng } from '../src/util/random.js';

const args = process.argv.slice(2);
const seconds = args.includes('--seconds') ? Number(args[args.indexOf('--seconds') + 1]) : 3;
const outPath = args.includes('--out') ? args[args.indexOf('--out') + 1] : undefined;
const SLOTS = 8;
const DIM = 16;
const VOCAB = 10000;
const CONCURRENCY = 4;

function spec(): ModelSpec {
  const entry = { segments: [{ dimSize: DIM, optConfig: { adagrad: {} }, initConfig: { zeros: {} } }] };
  return {
    name: 'bench',
    features: Array.from({ length: SLOTS }, (_, i) => ({ name: `f${i + 1}`, slot: i + 1, dim: DIM, combiner: 'reduce_sum' as const, table: `t${i + 1}` })),
    tables: Object.fromEntries(Array.from({ length: SLOTS }, (_, i) => [`t${i + 1}`, { entry, shards: 4 }])),
    denseInputs: [],
    heads: [{ name: 'ctr', kind: 'classification', labelIndex: 0 }],
    buildDense() {
      const inputs = Array.from({ length: SLOTS }, () => tfl.input({ shape: [DIM] }));
      const cat = tfl.layers.concatenate().apply(inputs) as tfl.SymbolicTensor;
      const h1 = tfl.layers.dense({ units: 128, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }).apply(cat) as tfl.SymbolicTensor;
      const h2 = tfl.layers.dense({ units: 64, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }).apply(h1) as tfl.SymbolicTensor;
      const out = tfl.layers.dense({ units: 1, kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }).apply(h2) as tfl.SymbolicTensor;
      return tfl.model({ inputs, outputs: [out] });
    },
  };
}

function records(rng: Rng, n: number): Uint8Array[] {
  return Array.from({ length: n }, () =>
    parser.proto.Instance.encode({
      fid: Array.from({ length: SLOTS }, (_, s) => Array.from({ length: 3 }, () => Long.fromString(makeFidV1(s + 1, BigInt(rng.int(0, VOCAB - 1))).toString(), true))).flat(),
    }).finish(),
  );
}

interface Stats {
  qps: number;
  rowsPerSec: number;
  p50: number;
  p90: number;
  p99: number;
  calls: number;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

async function measure(rows: number, call: () => unknown | Promise<unknown>, concurrency = 1): Promise<Stats> {
  for (let i = 0; i < 20; i++) await call();
  const lat: number[] = [];
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        await call();
        lat.push(performance.now() - s);
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return { qps: lat.length / elapsed, rowsPerSec: (lat.length * rows) / elapsed, p50: pct(lat, 0.5), p90: pct(lat, 0.9), p99: pct(lat, 0.99), calls: lat.length };
}

const backend = await ensureTfBackend();
const s = spec();
const rng = new Rng(1);
const tables = new Map(Object.entries(s.tables).map(([name, c]) => [name, EmbeddingHashTable.create({ ...c, name })]));
for (const [name, t] of tables) {
  const slot = Number(name.slice(1));
  const ids = Array.from({ length: VOCAB }, (_, i) => makeFidV1(slot, BigInt(i)));
  t.assign(ids, Float32Array.from({ length: VOCAB * DIM }, () => rng.uniform(-0.1, 0.1)));
}
const base = mkdtempSync(join(tmpdir(), 'monolith-ts-bench-serving-'));
await new StandaloneExporter({ spec: s, exportDirBase: base, params: liveParams(s.buildDense(), tables), clock: () => 1700000000 }).exportSavedModel();
const server = await PredictionServer.start({ modelBasePath: base, pollIntervalMs: 0, restPort: 0 });
const batched = await PredictionServer.start({ modelBasePath: base, pollIntervalMs: 0, batching: { maxBatchSize: 128, batchTimeoutMicros: 500 } });
const client = new PredictionClient(server.address);
const batchedClient = new PredictionClient(batched.address);
const started = new Date();
const lines: string[] = [];
const restPredict = async (body: string) => {
  const res = await fetch(`http://${server.restAddress}/v1/models/default:predict`, { method: 'POST', body });
  if (res.status !== 200) throw new Error(`REST ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
};
try {
  for (const batch of [1, 8, 128]) {
    const recs = records(rng, batch);
    const req = { modelSpec: { name: 'default', signatureName: 'serving_default' }, inputs: { instances: stringTensor(recs) } };
    const body = JSON.stringify({ instances: recs.map((r) => ({ b64: Buffer.from(r).toString('base64') })) });
    const local = await measure(batch, () => server.current.predictRecords(recs));
    const local4 = await measure(batch, () => server.current.predictRecords(recs), CONCURRENCY);
    const row = (name: string, st: Stats, ref: Stats) =>
      `| ${batch} | ${name} | ${st.qps.toFixed(0)} | ${st.rowsPerSec.toFixed(0)} | ${st.p50.toFixed(2)} | ${st.p90.toFixed(2)} | ${st.p99.toFixed(2)} | ${(st.qps / ref.qps).toFixed(2)} |`;
    lines.push(
      row('in-process predictRecords', local, local),
      row('gRPC Predict, 1 client', await measure(batch, () => client.predict(req)), local),
      row('REST :predict, 1 client', await measure(batch, () => restPredict(body)), local),
      row(`gRPC Predict, ${CONCURRENCY} clients`, await measure(batch, () => client.predict(req), CONCURRENCY), local4),
      row(`REST :predict, ${CONCURRENCY} clients`, await measure(batch, () => restPredict(body), CONCURRENCY), local4),
      row(`gRPC Predict, ${CONCURRENCY} clients, --enable_batching`, await measure(batch, () => batchedClient.predict(req), CONCURRENCY), local4),
    );
    process.stderr.write(`batch ${batch} done\n`);
  }
} finally {
  client.close();
  batchedClient.close();
  await server.stop();
  await batched.stop();
}
const md = `# Serving benchmark (bench/serving.ts)

Command: \`npm run build && node dist/bench/serving.js --seconds ${seconds} --out bench/RESULTS-serving.md\` — ${started.toISOString()}, tfjs ${backend} backend, Node ${process.version}.
Model: ${SLOTS} fid-v1 features (3 fids each, reduce_sum) over ${SLOTS} tables of ${VOCAB} x ${DIM}, dense tower ${SLOTS * DIM}→128→64→1.
Requests: serialized Instances under \`instances\` (serving_default); REST sends them as \`{"b64": …}\` in row form. Server and client in one process on 127.0.0.1 (real gRPC over HTTP/2, real HTTP/1.1 with fetch).
Each line runs ${seconds} s after 20 warm calls; latency in ms per call; "x in-process" = calls/s over in-process predictRecords at the same batch and the same number of concurrent callers, same run.
The --enable_batching server uses max_batch_size 128, batch_timeout_micros 500.

| batch | path | calls/s | rows/s | p50 ms | p90 ms | p99 ms | x in-process |
| --- | --- | --- | --- | --- | --- | --- | --- |
${lines.join('\n')}
`;
process.stdout.write(md);
if (outPath) writeFileSync(outPath, md);
