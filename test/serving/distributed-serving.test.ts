import test from 'ava';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createModel } from '../export/fixtures/tiny-model.js';
import { encodeInstances, randomRows, trainModel } from '../export/fixtures/train.js';
import { DistributedExporter, StandaloneExporter } from '../../src/export/exporters.js';
import { liveParams } from '../../src/export/params-source.js';
import { partitionOf } from '../../src/export/table-export.js';
import { stringTensor } from '../../src/export/warmup.js';
import { loadExport } from '../../src/serving/load-export.js';
import { PredictionClient } from '../../src/serving/prediction-client.js';
import { floatTensor, int64Tensor, tensorToNumbers } from '../../src/serving/tensor-proto.js';
import { ROOT, tempDir } from '../helpers.js';

const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const env = { ...process.env, MONOLITH_LOG: 'warn' };

interface Served {
  proc: ChildProcessWithoutNullStreams;
  addr: string;
}

/** Starts `monolith-ts serve …` on port 0 and reads the bound address from its stdout. */
async function serve(args: string[]): Promise<Served> {
  const proc = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--poll-interval-ms', '0', ...args], { env });
  let out = '';
  let err = '';
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (c: string) => (err += c));
  while (!/ on (\S+:\d+)\n/.test(out)) {
    const [chunk] = (await Promise.race([once(proc.stdout, 'data'), once(proc, 'exit').then(() => ['EXIT'])])) as string[];
    if (chunk === 'EXIT') throw Object.assign(new Error(`serve exited: ${out}${err}`), { stderr: err });
    out += chunk;
  }
  return { proc, addr: / on (\S+:\d+)\n/.exec(out)![1]! };
}

async function stop(s: Served): Promise<void> {
  if (s.proc.exitCode !== null) return;
  s.proc.kill('SIGTERM');
  await once(s.proc, 'exit');
}

async function exports() {
  const tr = trainModel(createModel());
  const dir = await tempDir();
  const params = liveParams(tr.dense, tr.tables);
  const clock = () => 1700000000;
  const standalone = await new StandaloneExporter({ spec: tr.spec, exportDirBase: join(dir, 'standalone'), params, clock }).exportSavedModel();
  await new DistributedExporter({ spec: tr.spec, exportDirBase: join(dir, 'dist'), params, clock, numPs: 2 }).exportSavedModel();
  return { tr, dir, standalone, dist: join(dir, 'dist') };
}

test('distributed export served by an entry process and two ps processes over gRPC: the standalone export\'s answers', async (t) => {
  const { tr, standalone, dist } = await exports();
  const ps = [await serve(['--model-base-path', join(dist, 'ps_0'), '--role', 'ps']), await serve(['--model-base-path', join(dist, 'ps_1'), '--role', 'ps'])];
  const started: Served[] = [...ps];
  const clients: PredictionClient[] = [];
  t.teardown(async () => {
    for (const c of clients) c.close();
    for (const s of started.reverse()) await stop(s);
  });
  const entry = await serve(['--model-base-path', join(dist, 'entry'), '--role', 'entry', '--ps-addrs', ps.map((p) => p.addr).join(',')]);
  started.push(entry);

  const reference = await loadExport(standalone);
  t.teardown(() => reference.dispose());
  const records = encodeInstances(randomRows(tr, 23));
  const want = reference.predictRecords(records);
  const client = new PredictionClient(entry.addr);
  clients.push(client);
  const req = { modelSpec: { name: 'default', signatureName: 'serving_default' }, inputs: { instances: stringTensor(records) } };
  const res = await client.predict(req);
  t.deepEqual(tensorToNumbers(res.outputs.ctr!), Array.from(want.ctr!));
  t.deepEqual(tensorToNumbers(res.outputs.value!), Array.from(want.value!));

  // Each ps holds only its partition (fid % 2): an id of ps_1 is zeros on ps_0, and its row on ps_1.
  const ids = tr.vocab.get(1)!;
  const id1 = ids.find((id) => partitionOf(Number(id & 0xffffffffn), Number(id >> 32n), 2) === 1)!;
  const ask = (c: PredictionClient) => c.predict({ modelSpec: { name: 'default', signatureName: 'user/lookup' }, inputs: { id: int64Tensor([id1], [1]) } });
  const ps0 = new PredictionClient(ps[0]!.addr);
  const ps1 = new PredictionClient(ps[1]!.addr);
  clients.push(ps0, ps1);
  t.true(tensorToNumbers((await ask(ps0)).outputs.embedding!).every((v) => v === 0));
  t.deepEqual(tensorToNumbers((await ask(ps1)).outputs.embedding!), Array.from(reference.lookup('user', new Uint32Array([Number(id1 & 0xffffffffn), Number(id1 >> 32n)]))));

  // The entry reads the rows live from the ps processes: a raw_assign on ps_1 changes its answers.
  const rowsWithId = randomRows(tr, 4).map((r) => ({ ...r, fids: new Map(r.fids).set(1, [id1]) }));
  const recs = encodeInstances(rowsWithId);
  const before = await client.predict({ ...req, inputs: { instances: stringTensor(recs) } });
  await ps1.predict({ modelSpec: { name: 'default', signatureName: 'user/raw_assign' }, inputs: { id: int64Tensor([id1], [1]), value: floatTensor(new Float32Array([5, -5, 5, -5]), [1, 4]) } });
  const after = await client.predict({ ...req, inputs: { instances: stringTensor(recs) } });
  t.notDeepEqual(tensorToNumbers(after.outputs.ctr!), tensorToNumbers(before.outputs.ctr!));

  // Without its parameter servers the entry cannot answer, and says which one is missing.
  await stop(ps[1]!);
  const err = await t.throwsAsync(client.predict({ ...req, inputs: { instances: stringTensor(recs) } }));
  t.regex(err!.message, /UNAVAILABLE.*parameter server ps_1/);
});

test('serve roles are checked: an entry needs one address per ps, a ps export needs --role ps', async (t) => {
  const { dist } = await exports();
  const e1 = await t.throwsAsync(serve(['--model-base-path', join(dist, 'entry'), '--role', 'entry']));
  t.regex((e1 as Error & { stderr: string }).stderr, /--role entry needs --ps-addrs/);
  const e2 = await t.throwsAsync(serve(['--model-base-path', join(dist, 'entry'), '--role', 'entry', '--ps-addrs', '127.0.0.1:1']));
  t.regex((e2 as Error & { stderr: string }).stderr, /2 parameter server\(s\).*got 1 address/);
  const e3 = await t.throwsAsync(serve(['--model-base-path', join(dist, 'ps_0')]));
  t.regex((e3 as Error & { stderr: string }).stderr, /--role standalone: .* is a ps export \(serve it with --role ps\)/);
  const e4 = await t.throwsAsync(serve(['--model-base-path', join(dist, 'entry'), '--role', 'entry', '--ps-addrs', 'nohost']));
  t.regex((e4 as Error & { stderr: string }).stderr, /--ps-addrs nohost: expected host:port/);
});
