import { readFile } from 'node:fs/promises';
import { FormatError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { crc32c } from '../io/crc32c.js';
import type { SharedDenseParams } from '../workers/shared-dense-params.js';

/**
 * The dense part of a checkpoint, one file written atomically:
 *   "MTSD" | u32 header length | JSON header | pad to 4 | float32 weights + optimizer slots | u32 crc32c of the floats
 * The header records the params (names, shapes), optimizer, global step and
 * update count, so a restore checks it is loading into the same model.
 */
const MAGIC = 0x4453544d; // "MTSD" little-endian

interface DenseHeader {
  params: { name: string; shape: number[] }[];
  optimizer: string;
  globalStep: number;
  updates: number;
  floats: number;
}

export async function saveDenseParams(path: string, dense: SharedDenseParams): Promise<void> {
  const state = dense.flatState.slice(); // a copy: workers may be writing (the step gate holds them during checkpoints)
  const header: DenseHeader = { params: dense.params, optimizer: dense.handle.optimizer.name, globalStep: dense.globalStep, updates: dense.updates, floats: state.length };
  const json = Buffer.from(JSON.stringify(header));
  const dataAt = (8 + json.length + 3) & ~3;
  const out = new Uint8Array(dataAt + state.byteLength + 4);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, json.length, true);
  out.set(json, 8);
  const bytes = new Uint8Array(state.buffer, state.byteOffset, state.byteLength);
  out.set(bytes, dataAt);
  dv.setUint32(dataAt + state.byteLength, crc32c(bytes), true);
  await writeFileAtomic(path, out);
}

/** Checks every header field's presence and type; a FormatError names the first bad one. */
function checkHeader(h: unknown, file: string): DenseHeader {
  const bad = (field: string, what: string): never => {
    throw new FormatError(`dense checkpoint header: ${what}`, { file, field });
  };
  if (typeof h !== 'object' || h === null || Array.isArray(h)) return bad('header', 'not a JSON object');
  const o = h as Record<string, unknown>;
  const count = (k: string) => {
    if (!Object.hasOwn(o, k)) bad(k, `field "${k}" is missing`);
    if (!Number.isSafeInteger(o[k]) || (o[k] as number) < 0) bad(k, `field "${k}" is ${JSON.stringify(o[k])}, expected a non-negative integer`);
  };
  count('globalStep');
  count('updates');
  count('floats');
  if (typeof o.optimizer !== 'string') bad('optimizer', Object.hasOwn(o, 'optimizer') ? 'field "optimizer" is not a string' : 'field "optimizer" is missing');
  if (!Array.isArray(o.params)) bad('params', Object.hasOwn(o, 'params') ? 'field "params" is not a list' : 'field "params" is missing');
  (o.params as unknown[]).forEach((p, i) => {
    const q = p as { name?: unknown; shape?: unknown } | null;
    if (typeof q !== 'object' || q === null || typeof q.name !== 'string' || !Array.isArray(q.shape) || !q.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      bad(`params[${i}]`, `params[${i}] is not {name, shape: [dims]}`);
    }
  });
  return o as unknown as DenseHeader;
}

/**
 * Reads and checks a dense checkpoint without changing `dense`; `commit` then
 * copies it in (weights, slots, global step) and returns the step. FormatError
 * on any mismatch or damage, naming the file and the offset or header field.
 */
export async function loadDenseParams(path: string, dense: SharedDenseParams): Promise<{ step: number; commit(): number }> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (err) {
    throw new FormatError(`cannot read dense checkpoint: ${(err as Error).message}`, { file: path }, { cause: err });
  }
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.length < 12 || dv.getUint32(0, true) !== MAGIC) throw new FormatError('not a dense checkpoint (magic MTSD missing)', { file: path, offset: 0 });
  const jsonLen = dv.getUint32(4, true);
  if (8 + jsonLen > buf.length) throw new FormatError(`header length ${jsonLen} runs past the end`, { file: path, offset: 4 });
  let parsed: unknown;
  try {
    parsed = JSON.parse(buf.subarray(8, 8 + jsonLen).toString('utf8'));
  } catch (err) {
    throw new FormatError('dense checkpoint header is not JSON', { file: path, offset: 8 }, { cause: err });
  }
  const header = checkHeader(parsed, path);
  const dataAt = (8 + jsonLen + 3) & ~3;
  if (header.floats !== dense.flatState.length) throw new FormatError(`holds ${header.floats} floats, the model's dense state has ${dense.flatState.length}`, { file: path, field: 'floats' });
  const same = header.params.length === dense.params.length && header.params.every((p, i) => p.shape.join(',') === dense.params[i]!.shape.join(','));
  if (!same || header.optimizer !== dense.handle.optimizer.name) throw new FormatError('was saved for other dense params or another optimizer', { file: path, field: 'params' });
  const end = dataAt + header.floats * 4;
  if (end + 4 !== buf.length) throw new FormatError(`is ${buf.length} bytes, expected ${end + 4}`, { file: path, offset: buf.length });
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset + dataAt, header.floats * 4);
  if (crc32c(bytes) !== dv.getUint32(end, true)) throw new FormatError('checksum mismatch', { file: path, offset: end });
  const floats = new Float32Array(bytes.slice().buffer);
  return {
    step: header.globalStep,
    commit: () => {
      dense.flatState.set(floats);
      dense.globalStep = header.globalStep;
      dense.updates = header.updates;
      return header.globalStep;
    },
  };
}

/** Loads a dense checkpoint into `dense` (weights, slots, global step); returns the step. FormatError on any mismatch or damage. */
export async function restoreDenseParams(path: string, dense: SharedDenseParams): Promise<number> {
  return (await loadDenseParams(path, dense)).commit();
}
