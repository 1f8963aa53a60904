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

/** Loads a dense checkpoint into `dense` (weights, slots, global step); returns the step. FormatError on any mismatch or damage. */
export async function restoreDenseParams(path: string, dense: SharedDenseParams): Promise<number> {
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
  let header: DenseHeader;
  try {
    header = JSON.parse(buf.subarray(8, 8 + jsonLen).toString('utf8')) as DenseHeader;
  } catch (err) {
    throw new FormatError('dense checkpoint header is not JSON', { file: path, offset: 8 }, { cause: err });
  }
  const dataAt = (8 + jsonLen + 3) & ~3;
  if (header.floats !== dense.flatState.length) throw new FormatError(`holds ${header.floats} floats, the model's dense state has ${dense.flatState.length}`, { file: path, field: 'floats' });
  const same = header.params.length === dense.params.length && header.params.every((p, i) => p.shape.join(',') === dense.params[i]!.shape.join(','));
  if (!same || header.optimizer !== dense.handle.optimizer.name) throw new FormatError('was saved for other dense params or another optimizer', { file: path, field: 'params' });
  const end = dataAt + header.floats * 4;
  if (end + 4 !== buf.length) throw new FormatError(`is ${buf.length} bytes, expected ${end + 4}`, { file: path, offset: buf.length });
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset + dataAt, header.floats * 4);
  if (crc32c(bytes) !== dv.getUint32(end, true)) throw new FormatError('checksum mismatch', { file: path, offset: end });
  const floats = new Float32Array(bytes.slice().buffer);
  dense.flatState.set(floats);
  dense.globalStep = header.globalStep;
  dense.updates = header.updates;
  return header.globalStep;
}
