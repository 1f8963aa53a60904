import test from 'ava';
import { createServer } from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../../src/errors.js';
import { addMpiExceptionHook, getLocalHost, MLPEnv, mpiLocalSize, mpiRank, mpiSize } from '../../src/context/mlp-env.js';
import { checkPort } from '../../src/context/check-port.js';

const host = () => '10.0.0.9';

const cluster = {
  MLP_FRAMEWORK: 'tensorflow',
  MLP_SSH_PORT: '22',
  MLP_LOG_PATH: '"/logs"',
  MLP_WORKER_NUM: '4',
  MLP_PS_NUM: '2',
  MLP_DISPATCHER_NUM: '1',
  MLP_PORT: '2300',
  MLP_CPU: '16',
  MLP_GPU: '2',
  MLP_GPU_TYPE: "'A100'",
  MLP_MEM: '65536',
  MLP_WORKER_ALL_PRIMARY_HOSTS: 'w0,w1',
  MLP_WORKER_ALL_HOSTS: 'w0s,w1s',
  MLP_WORKER_ALL_PRIMARY_ADDRS: 'w0:2300,w1:2300',
  MLP_WORKER_0_PRIMARY_HOST: 'w0',
  MLP_WORKER_1_PRIMARY_HOST: 'w1',
  MLP_WORKER_1_HOST: 'w1s',
  MLP_WORKER_0_PORT: '2300',
  MLP_WORKER_1_PORT: '2301',
  MLP_PS_0_PRIMARY_HOST: 'p0',
  MLP_PS_0_PORT: '2400',
  MLP_PS_1_PRIMARY_HOST: 'p1',
  MLP_PS_1_PORT: '2401',
  MLP_DISPATCHER_0_PRIMARY_HOST: 'd0',
  MLP_DISPATCHER_0_PORT: '5050',
  OTHER_VAR: 'ignored',
};

test('a PS of an MLP job: role, index, ports as integers, replicas, quotes stripped', (t) => {
  const env = new MLPEnv({ env: { ...cluster, MLP_ROLE: 'ps', MLP_ROLE_INDEX: '1' }, localHost: host });
  t.is(env.role, 'PS');
  t.false(env.enableMpi);
  t.is(env.index, 1);
  t.is(env.port, 2300);
  t.is(env.sshPort, 22);
  t.is(env.logPath, '/logs');
  t.is(env.gpuType, 'A100');
  t.deepEqual([env.cpu, env.gpu, env.mem], [16, 2, 65536]);
  t.deepEqual(env.allRoles, { WORKER: 4, PS: 2, DISPATCHER: 1 });
  t.true(env.available);
  t.is(env.host, '10.0.0.9');
  t.is(env.numReplicas(), 2);
  t.is(env.numReplicas('worker'), 4);
  t.is(env.getHost(), 'p1', 'own role: own index');
  t.is(env.getHost('worker'), 'w0', 'other role: index 0');
  t.is(env.getHost('worker', 1, false), 'w1s');
  t.is(env.getAddr(), 'p1:2401');
  t.is(env.getAddr('worker', 1), 'w1:2301');
  t.is(env.getAddr('worker', 3), undefined, 'unknown host: no address');
  t.is(env.getPort('worker', 1), 2301);
  t.is(typeof env.getPort('worker', 1), 'number');
  t.is(env.getPort(), 2400, 'getPort defaults the index to 0, as the seed does');
  t.is(env.getPort('chief'), 2222, 'default port');
  t.deepEqual(env.getAllHost('worker'), ['w0', 'w1']);
  t.deepEqual(env.getAllHost('worker', false), ['w0s', 'w1s']);
  t.deepEqual(env.getAllAddrs('worker'), ['w0:2300', 'w1:2300']);
  t.deepEqual(env.getAllAddrs('ps'), []);
  t.is(env.dispatcherAddr(), 'd0:5050');
  t.is(env.dispatcherTarget(), 'grpc://d0:5050');
  t.is(env.queueDevice, '/job:ps/task:0/device:CPU:0');
});

test('an MPI worker takes its index and the worker count from Open MPI; ports are worker 0\'s plus the rank; hosts are per local size', (t) => {
  const env = new MLPEnv({
    env: { ...cluster, MLP_ROLE: 'worker', MLP_ROLE_INDEX: '0', OMPI_COMM_WORLD_RANK: '3', OMPI_COMM_WORLD_SIZE: '8', OMPI_COMM_WORLD_LOCAL_SIZE: '2' },
    localHost: host,
  });
  t.true(env.enableMpi);
  t.is(env.index, 3);
  t.is(env.allRoles.WORKER, 8);
  t.is(env.port, 2303);
  t.is(env.numReplicas(), 8);
  t.is(env.numReplicas('ps'), 2);
  t.is(env.getHost(), 'w1', 'rank 3 with 2 ranks per host lives on host 1');
  t.is(env.getAddr(), 'w1:2303');
  t.is(env.getAddr('worker', 0), 'w0:2300');
  t.is(env.getPort(), 2303);
  t.is(env.getPort('worker', 5), 2305);
  t.is(env.getPort('ps', 1), 2401);
});

test('OMPI rank on a non-worker role does not enable MPI; no MLP variables: not available, dispatcher default', (t) => {
  const ps = new MLPEnv({ env: { ...cluster, MLP_ROLE: 'ps', OMPI_COMM_WORLD_RANK: '1' }, localHost: host });
  t.false(ps.enableMpi);
  t.is(ps.index, 0);
  const none = new MLPEnv({ env: { HOME: '/root' }, localHost: host });
  t.false(none.available);
  t.is(none.role, '');
  t.deepEqual(none.allRoles, {});
  t.is(none.dispatcherTarget(), 'grpc://localhost:5050');
  t.is(none.queueDevice, '/device:CPU:0');
  t.is(new MLPEnv({ env: { MLP_WORKER_NUM: '1' }, localHost: host }).queueDevice, '/job:worker/task:0/device:CPU:0');
});

test('a non-integer variable is a ConfigError naming it; MPI helpers default to rank 0 of 1', (t) => {
  t.throws(() => new MLPEnv({ env: { MLP_PORT: 'http' }, localHost: host }), { instanceOf: ConfigError, message: /MLP_PORT="http"/ });
  t.is(mpiRank({}), 0);
  t.is(mpiSize({}), 1);
  t.is(mpiLocalSize({}), 1);
  t.is(mpiRank({ OMPI_COMM_WORLD_RANK: '5' }), 5);
});

test('getLocalHost: CLOUDNATIVE_INET_ADDR first entry, else YARN_INET_ADDR, else a machine address', (t) => {
  t.is(getLocalHost({ CLOUDNATIVE_INET_ADDR: '1.2.3.4,5.6.7.8', YARN_INET_ADDR: '9.9.9.9' }), '1.2.3.4');
  t.is(getLocalHost({ YARN_INET_ADDR: '9.9.9.9' }), '9.9.9.9');
  t.regex(getLocalHost({}), /^\d+\.\d+\.\d+\.\d+$/);
});

async function listen(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = createServer((s) => s.destroy());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
}

test('checkPort: true for a listening port, false for a closed one once the timeout is spent', async (t) => {
  const server = await listen();
  t.true(await checkPort('127.0.0.1', server.port));
  await server.close();
  const started = Date.now();
  t.false(await checkPort('127.0.0.1', server.port, 300));
  t.true(Date.now() - started >= 250, 'refusals are retried until the timeout');
});

test('wait() returns once the role\'s port answers; join() waits for it to go away, then exits with 0', async (t) => {
  const server = await listen();
  const env = new MLPEnv({ env: { MLP_ROLE: 'dsworker', MLP_DSWORKER_NUM: '1', MLP_WORKER_0_PRIMARY_HOST: '127.0.0.1', MLP_WORKER_0_PORT: String(server.port) }, localHost: host });
  t.true(await env.wait({ role: 'worker', useSsh: false }));
  const sleeps: number[] = [];
  let exitCode: number | undefined;
  const joined = env.join({
    useSsh: false,
    checkTimeoutMs: 100,
    // the worker goes away during the first pause between checks
    sleep: async (ms) => {
      sleeps.push(ms);
      await server.close();
    },
    exit: (code) => void (exitCode = code),
  });
  await joined;
  t.is(exitCode, 0);
  t.deepEqual(sleeps, [10_000]);
  const unknown = new MLPEnv({ env: { MLP_ROLE: 'worker' }, localHost: host });
  t.false(await unknown.wait({ role: 'ps', useSsh: false }), 'no host known: gives up at once');
});

test('wait() gives up after timeoutSecs of polling', async (t) => {
  const server = await listen();
  await server.close();
  const env = new MLPEnv({ env: { MLP_PS_0_PRIMARY_HOST: '127.0.0.1', MLP_PS_0_PORT: String(server.port) }, localHost: host });
  const sleeps: number[] = [];
  t.false(await env.wait({ role: 'ps', useSsh: false, timeoutSecs: 10, pollSecs: 5, checkTimeoutMs: 20, sleep: async (ms) => void sleeps.push(ms) }));
  t.deepEqual(sleeps, [5000, 5000]);
});

test('addMpiExceptionHook: nothing outside MPI; under MPI an uncaught exception aborts with code 1', (t) => {
  t.is(addMpiExceptionHook({ env: {} }), undefined);
  let code: number | undefined;
  const before = process.listenerCount('uncaughtException');
  const remove = addMpiExceptionHook({ env: { OMPI_COMM_WORLD_RANK: '0' }, abort: (c) => void (code = c) })!;
  t.is(process.listenerCount('uncaughtException'), before + 1);
  const listeners = process.listeners('uncaughtException');
  const origWrite = process.stderr.write;
  process.stderr.write = (() => true) as never;
  try {
    listeners[listeners.length - 1]!(new Error('x'), 'uncaughtException');
  } finally {
    process.stderr.write = origWrite;
  }
  t.is(code, 1);
  remove();
  t.is(process.listenerCount('uncaughtException'), before);
});
