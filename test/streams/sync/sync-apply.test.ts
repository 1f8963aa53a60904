/**
 * A serving replica applying a sync topic (librdkafka mock cluster on
 * loopback, a real export loaded with loadExport): version order per row,
 * duplicates, messages for another model or table shape refused without
 * stopping, and a restarted replica reading from the export's recorded offsets.
 */
import test from 'ava';
import Kafka from 'node-rdkafka';
import { StandaloneExporter } from '../../../src/export/exporters.js';
import { liveParams } from '../../../src/export/params-source.js';
import type { ExportedModel } from '../../../src/serving/exported-model.js';
import { loadExport } from '../../../src/serving/load-export.js';
import { encodeSyncMessage, type SyncMessage } from '../../../src/streams/sync/sync-message.js';
import { SyncSubscriber } from '../../../src/streams/sync/sync-subscriber.js';
import { createModel } from '../../export/fixtures/tiny-model.js';
import { trainModel } from '../../export/fixtures/train.js';
import { tempDir } from '../../helpers.js';
import { startMockKafka } from '../sinks/kafka-mock.js';

const cb = <T>(fn: (done: (err: unknown, v: T) => void) => void) => new Promise<T>((res, rej) => fn((err, v) => (err ? rej(err) : res(v))));
const ids = (...xs: number[]) => new Uint32Array(xs.flatMap((x) => [x, 7]));
const rows = (version: number, idList: number[], fill: number[], extra: Partial<SyncMessage> = {}): SyncMessage =>
  ({ kind: 'rows', modelName: 'tiny', version, publishedAt: 0, publisher: 'test', table: 'user', dim: 4, fp16: false, ids: ids(...idList), values: new Float32Array(idList.flatMap((_, i) => Array(4).fill(fill[i]))), ...extra }) as SyncMessage;

async function waitUntil(cond: () => boolean, what: () => string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('rows apply in version order, duplicates are harmless, foreign or misshapen updates are refused; a restarted replica replays from its export; a newer export restarts from its own offsets', async (t) => {
  const kafka = await startMockKafka();
  const producer = new Kafka.Producer({ 'bootstrap.servers': kafka.bootstrap } as Kafka.ProducerGlobalConfig);
  const models: ExportedModel[] = [];
  const subs: SyncSubscriber[] = [];
  try {
    await cb((d) => producer.connect({}, d));
    const send = async (list: (SyncMessage | Uint8Array)[], partition = 0) => {
      for (const m of list) producer.produce('params', partition, Buffer.from(m instanceof Uint8Array ? m : encodeSyncMessage(m)), null);
      await cb<void>((d) => producer.flush(10_000, (e) => d(e, undefined)));
    };
    // Before the export: an update the export already holds (a replica loading it must not read it).
    await send([rows(5, [1], [9])]);
    const high = await cb<Kafka.WatermarkOffsets>((d) => producer.queryWatermarkOffsets('params', 0, 5000, d));
    t.is(high.highOffset, 1);

    const tr = trainModel(createModel());
    tr.tables.get('user')!.assign(ids(1, 2, 3), new Float32Array(12).fill(1));
    const base = await tempDir();
    await new StandaloneExporter({ spec: tr.spec, exportDirBase: base, params: liveParams(tr.dense, tr.tables), clock: () => 100, syncMark: async () => ({ topic: 'params', offsets: [{ partition: 0, offset: high.highOffset }] }) }).exportSavedModel({ globalStep: 10 });

    const weights = tr.dense.trainableWeights;
    const dense = (version: number, v: number): SyncMessage => ({ kind: 'dense', modelName: 'tiny', version, publishedAt: 0, publisher: 'test', params: weights.map((w) => ({ name: w.originalName, shape: [...w.shape] as number[], values: new Float32Array(w.shape.reduce((a, b) => a! * b!, 1)!).fill(v) })) });
    await send([
      rows(12, [1, 2], [2, 2]),
      rows(11, [1], [3]), // older than what id 1 holds: left alone
      rows(12, [1, 2], [2, 2]), // a duplicate
      rows(8, [3], [4]), // older than the export (global step 10)
      rows(20, [1], [5], { modelName: 'other' }), // another model
      rows(20, [1], [5], { dim: 2, values: new Float32Array(2) } as Partial<SyncMessage>), // another shape
      Uint8Array.of(1, 2, 3), // not a sync message
      rows(13, [2], [6]),
      dense(12, 0.5),
      dense(11, 0.25), // older dense weights
    ]);
    await send([rows(14, [4], [8])], 1); // another partition

    const start = async () => {
      const holder = { model: await loadExport(base, { trialLoadTimeoutMs: 0 }) };
      models.push(holder.model);
      const sub = await SyncSubscriber.start({ brokers: kafka.bootstrap, topic: 'params', target: () => holder.model, metadataRefreshMs: 100 });
      subs.push(sub);
      await waitUntil(() => sub.counts.messages === 11, () => JSON.stringify(sub.counts));
      return { model: holder.model, sub, holder };
    };
    const a = await start();
    t.deepEqual(a.sub.counts, { messages: 11, rowsApplied: 6, rowsStale: 2, denseApplied: 1, refused: 3, version: 14 });
    const user = (m: ExportedModel) => Array.from(m.lookup('user', ids(1, 2, 3, 4))).filter((_, i) => i % 4 === 0);
    t.deepEqual(user(a.model), [2, 6, 1, 8]);
    const served = a.model.dense!.trainableWeights.map((w) => Array.from(w.read().dataSync()));
    t.true(served.every((vs) => vs.every((v) => v === 0.5)));

    // A replica started later from the same export: the message before its offsets is not read, the state is the same.
    const b = await start();
    t.is(b.sub.counts.messages, 11);
    t.deepEqual(user(b.model), user(a.model));
    t.deepEqual(b.model.dense!.trainableWeights.map((w) => Array.from(w.read().dataSync())), served);
    t.deepEqual(b.model.predictRecords([]), a.model.predictRecords([]));

    // A newer export swapped in (as a server's version poll does): the subscriber starts again from that export's offsets.
    const high0 = await cb<Kafka.WatermarkOffsets>((d) => producer.queryWatermarkOffsets('params', 0, 5000, d));
    const base2 = await tempDir();
    tr.tables.get('user')!.assign(ids(1), new Float32Array(4).fill(30));
    await new StandaloneExporter({ spec: tr.spec, exportDirBase: base2, params: liveParams(tr.dense, tr.tables), clock: () => 200, syncMark: async () => ({ topic: 'params', offsets: [{ partition: 0, offset: high0.highOffset }, { partition: 1, offset: 1 }] }) }).exportSavedModel({ globalStep: 30 });
    const newer = await loadExport(base2, { trialLoadTimeoutMs: 0 });
    models.push(newer);
    await send([rows(31, [2], [31]), rows(25, [1], [25])]); // the second is older than the new export
    const before = { ...a.sub.counts };
    a.holder.model = newer;
    await waitUntil(() => a.sub.counts.messages === 13, () => JSON.stringify(a.sub.counts));
    t.deepEqual([a.sub.counts.rowsApplied - before.rowsApplied, a.sub.counts.rowsStale - before.rowsStale], [1, 1], 'exactly the two messages after the new offsets were read');
    t.deepEqual(user(newer), [30, 31, 1, 0], 'the newer export, then only what came after its offsets');
  } finally {
    for (const s of subs) await s.stop();
    for (const m of models) m.dispose();
    await new Promise<void>((r) => producer.disconnect(5000, () => r()));
    await kafka.close();
  }
});
