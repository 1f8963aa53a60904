import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MonolithError } from '../errors.js';

/** A WebAssembly kernel that is missing from the build or cannot run on this Node. */
export class WasmUnavailableError extends MonolithError {}

const WASM_PAGE = 65536;
/** The build's --maximumMemory, in 64 KiB pages (4 GiB, wasm32's limit). */
export const MAX_WASM_PAGES = 65536;

const compiled = new Map<string, WebAssembly.Module>();

/**
 * The compiled module `dist/wasm/<name>.wasm` (built from `wasm/<name>.ts` by
 * `npm run build`), compiled once per thread. A WebAssembly.Module can also be
 * posted to a worker, which then skips compiling.
 */
export function wasmModule(name: string): WebAssembly.Module {
  let m = compiled.get(name);
  if (m) return m;
  const file = fileURLToPath(new URL(`../../wasm/${name}.wasm`, import.meta.url));
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new WasmUnavailableError(`wasm kernel ${name}: cannot read ${file} (${(e as Error).message}); run \`npm run build\``);
  }
  try {
    m = new WebAssembly.Module(bytes);
  } catch (e) {
    throw new WasmUnavailableError(`wasm kernel ${name}: ${file} does not compile on this Node (${(e as Error).message})`);
  }
  compiled.set(name, m);
  return m;
}

/** A growable shared WebAssembly memory of at least `bytes` bytes; its `buffer` is a SharedArrayBuffer any worker can attach to. */
export function sharedWasmMemory(bytes: number, maxBytes = MAX_WASM_PAGES * WASM_PAGE): WebAssembly.Memory {
  const initial = Math.max(1, Math.ceil(bytes / WASM_PAGE));
  const maximum = Math.ceil(maxBytes / WASM_PAGE);
  if (initial > maximum) throw new WasmUnavailableError(`wasm memory: ${bytes} bytes is more than the ${maxBytes}-byte maximum`);
  return new WebAssembly.Memory({ initial, maximum, shared: true });
}

/** Instantiates kernel `name` over `memory` (which may come from another thread); returns its exports. */
export function instantiateWasm<T extends WebAssembly.Exports>(name: string | WebAssembly.Module, memory: WebAssembly.Memory): T {
  const mod = typeof name === 'string' ? wasmModule(name) : name;
  const env = {
    memory,
    abort(_msg: number, _file: number, line: number, col: number): never {
      throw new WasmUnavailableError(`wasm kernel aborted at ${line}:${col}`);
    },
  };
  return new WebAssembly.Instance(mod, { env }).exports as T;
}
