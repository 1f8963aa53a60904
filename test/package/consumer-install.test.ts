import test from 'ava';
import { existsSync, readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compileInConsumer, consumerProject, consumerWorkspace, runNode } from '../helpers/consumer-project.js';

// A user's project: the packed tarball installed without optional dependencies, peers from the npm cache.

test('the tarball installs without node-rdkafka and with one copy of tfjs and rxjs', async (t) => {
  const { dir } = await consumerProject();
  const nm = join(dir, 'node_modules');
  t.true(existsSync(join(nm, 'monolith-ts', 'package.json')));
  t.false(existsSync(join(nm, 'node-rdkafka')), 'optional node-rdkafka is not installed');
  for (const peer of ['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-backend-cpu', 'rxjs']) {
    t.true(existsSync(join(nm, peer, 'package.json')), `${peer} installed at the top level`);
    t.false(existsSync(join(nm, 'monolith-ts', 'node_modules', peer)), `no second copy of ${peer}`);
  }
  const files = JSON.parse(await readFile(join(nm, 'monolith-ts', 'package.json'), 'utf8')) as { version: string };
  t.truthy(files.version);
  t.false(existsSync(join(nm, 'monolith-ts', 'dist', 'test')), 'no tests in the tarball');
  t.true(readdirSync(join(nm, 'monolith-ts', 'dist', 'wasm')).some((f) => f.endsWith('.wasm')), 'the built wasm kernels are in the tarball');
  t.false(existsSync(join(nm, 'monolith-ts', 'bench')), 'no benchmarks in the tarball');
});

test('without node-rdkafka, the package entry loads and a Kafka feature throws KafkaUnavailableError naming the fix', async (t) => {
  const project = await consumerProject();
  const ws = await consumerWorkspace(project);
  await writeFile(
    join(ws, 'kafka-missing.ts'),
    `import { syntheticCtrSource, KafkaUnavailableError as FromEntry } from 'monolith-ts';
import { kafkaSource, KafkaUnavailableError } from 'monolith-ts/kafka';
import pkg from 'monolith-ts/package.json' with { type: 'json' };

syntheticCtrSource({ seed: 1, batchSize: 4, batches: 1 });
try {
  kafkaSource({ brokers: '127.0.0.1:9092', groupId: 'g', topics: 't', variant: 'instance', parse: { sparse: [{ name: 'f', slot: 1 }] }, batchSize: 4 });
  console.log('no error');
} catch (e) {
  console.log(JSON.stringify({ typed: e instanceof KafkaUnavailableError, same: FromEntry === KafkaUnavailableError, name: (e as Error).name, message: (e as Error).message, version: pkg.version }));
}
`,
  );
  await compileInConsumer(project, ws);
  const r = await runNode(join(ws, 'out', 'kafka-missing.js'), ws);
  t.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { typed: boolean; same: boolean; name: string; message: string; version: string };
  t.true(out.typed);
  t.true(out.same);
  t.is(out.name, 'KafkaUnavailableError');
  t.regex(out.message, /kafkaSource needs the optional package node-rdkafka/);
  t.regex(out.message, /npm install node-rdkafka/);
  t.truthy(out.version);
});
