import test from 'ava';
import { Worker } from 'node:worker_threads';
import { instantiateWasm, sharedWasmMemory, wasmModule, WasmUnavailableError } from '../../src/util/wasm-module.js';

interface Probe extends WebAssembly.Exports {
  axpy(x: number, y: number, n: number, a: number): void;
  tryLock(p: number): number;
}

test('the built probe kernel runs SIMD over shared memory', (t) => {
  const memory = sharedWasmMemory(1 << 16);
  t.true(memory.buffer instanceof SharedArrayBuffer);
  const k = instantiateWasm<Probe>('probe', memory);
  const f = new Float32Array(memory.buffer);
  for (let i = 0; i < 7; i++) {
    f[i] = i;
    f[16 + i] = 1;
  }
  k.axpy(0, 64, 7, 2);
  t.deepEqual(Array.from(f.subarray(16, 23)), [1, 3, 5, 7, 9, 11, 13]);
});

test('a worker thread instantiates the same module over the same memory and sees its writes', async (t) => {
  const memory = sharedWasmMemory(1 << 16);
  const k = instantiateWasm<Probe>('probe', memory);
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { exports } = new WebAssembly.Instance(workerData.module, { env: { memory: workerData.memory, abort() { throw new Error('abort'); } } });
    parentPort.postMessage(exports.tryLock(128));`;
  const w = new Worker(code, { eval: true, workerData: { module: wasmModule('probe'), memory } });
  const old = await new Promise<number>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  await w.terminate();
  t.is(old, 0);
  t.is(k.tryLock(128), 1, 'the lock taken in the worker is seen here');
});

test('a missing kernel is a typed error that says how to build it', (t) => {
  const e = t.throws(() => wasmModule('no-such-kernel'), { instanceOf: WasmUnavailableError });
  t.regex(e!.message, /npm run build/);
});
