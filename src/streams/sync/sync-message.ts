import { FormatError } from '../../errors.js';
import { fromHalf, toHalf } from '../../hashtable/fp16.js';

/**
 * The parameter-sync wire format: one Kafka message carries either rows of
 * one embedding table (ids and their serving values) or the dense weights,
 * stamped with the model's name and a version (the trainer's global step when
 * the values were read). Little-endian throughout:
 *
 * ```
 * header   "MTSY" | u8 format (1) | u8 kind (1 rows, 2 dense) | u16 0
 *          | u64 version | f64 publish time (ms since the epoch)
 *          | str model | str publisher            (str = u16 byte length, UTF-8)
 * rows     str table | u16 dim | u8 dtype (1 float32, 2 float16) | u32 count
 *          | count x u64 id | count x dim values
 * dense    u16 params | per param: str name, u8 rank, rank x u32 dim
 *          | then every param's float32 values, in order
 * ```
 */
export const SYNC_MAGIC = 'MTSY';
export const SYNC_FORMAT = 1;

interface SyncHeader {
  modelName: string;
  /** Monotonic per publisher: the global step at which the values were read. */
  version: number;
  /** Milliseconds since the epoch when the message was built. */
  publishedAt: number;
  /** Who published (e.g. `trainer-0`); informational. */
  publisher: string;
}

export interface SyncRows extends SyncHeader {
  kind: 'rows';
  table: string;
  dim: number;
  /** Values travel as IEEE halves (rounded from float32). */
  fp16: boolean;
  /** Ids as interleaved (lo, hi) uint32 words. */
  ids: Uint32Array;
  /** count x dim values (already widened from halves). */
  values: Float32Array;
}

export interface SyncDense extends SyncHeader {
  kind: 'dense';
  params: { name: string; shape: number[]; values: Float32Array }[];
}

export type SyncMessage = SyncRows | SyncDense;

const KIND_ROWS = 1;
const KIND_DENSE = 2;
const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

class Writer {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  at = 0;
  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.at + n));
    next.set(this.buf);
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.room(1);
    this.view.setUint8(this.at++, v);
  }
  u16(v: number): void {
    this.room(2);
    this.view.setUint16(this.at, v, true);
    this.at += 2;
  }
  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.at, v, true);
    this.at += 4;
  }
  f32(v: number): void {
    this.room(4);
    this.view.setFloat32(this.at, v, true);
    this.at += 4;
  }
  f64(v: number): void {
    this.room(8);
    this.view.setFloat64(this.at, v, true);
    this.at += 8;
  }
  u64(v: number): void {
    this.u32(v % 2 ** 32);
    this.u32(Math.floor(v / 2 ** 32));
  }
  str(s: string, what: string): void {
    const b = enc.encode(s);
    if (b.length > 0xffff) throw new FormatError(`sync message: ${what} is ${b.length} bytes (at most 65535)`, { field: what });
    this.u16(b.length);
    this.room(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.at);
  }
}

function header(w: Writer, kind: number, m: SyncHeader): void {
  if (!Number.isSafeInteger(m.version) || m.version < 0) throw new FormatError(`sync message: version ${m.version} is not a non-negative safe integer`, { field: 'version' });
  for (const c of SYNC_MAGIC) w.u8(c.charCodeAt(0));
  w.u8(SYNC_FORMAT);
  w.u8(kind);
  w.u16(0);
  w.u64(m.version);
  w.f64(m.publishedAt);
  w.str(m.modelName, 'model');
  w.str(m.publisher, 'publisher');
}

/** Encodes one sync message (rows: float16 values when `fp16`). */
export function encodeSyncMessage(m: SyncMessage): Uint8Array {
  const w = new Writer();
  if (m.kind === 'rows') {
    const n = m.ids.length >>> 1;
    if (m.ids.length % 2 !== 0) throw new FormatError(`sync message: ${m.ids.length} id words are not (lo, hi) pairs`, { field: 'ids' });
    if (!Number.isInteger(m.dim) || m.dim < 1 || m.dim > 0xffff) throw new FormatError(`sync message: dim ${m.dim} out of range 1..65535`, { field: 'dim' });
    if (m.values.length !== n * m.dim) throw new FormatError(`sync message: ${m.values.length} values for ${n} ids of dim ${m.dim}`, { field: 'values' });
    header(w, KIND_ROWS, m);
    w.str(m.table, 'table');
    w.u16(m.dim);
    w.u8(m.fp16 ? 2 : 1);
    w.u32(n);
    for (let i = 0; i < m.ids.length; i++) w.u32(m.ids[i]!);
    if (m.fp16) for (const v of m.values) w.u16(toHalf(v));
    else for (const v of m.values) w.f32(v);
  } else {
    header(w, KIND_DENSE, m);
    if (m.params.length > 0xffff) throw new FormatError(`sync message: ${m.params.length} dense params (at most 65535)`, { field: 'params' });
    w.u16(m.params.length);
    for (const p of m.params) {
      w.str(p.name, 'param');
      w.u8(p.shape.length);
      for (const d of p.shape) w.u32(d);
      if (p.values.length !== p.shape.reduce((a, b) => a * b, 1)) throw new FormatError(`sync message: param ${p.name} has ${p.values.length} values for shape [${p.shape}]`, { field: p.name });
    }
    for (const p of m.params) for (const v of p.values) w.f32(v);
  }
  return w.bytes();
}

class Reader {
  private readonly view: DataView;
  at = 0;
  constructor(
    private readonly b: Uint8Array,
    private readonly where: string,
  ) {
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  get left(): number {
    return this.b.length - this.at;
  }
  need(n: number, field: string): void {
    if (n > this.left) throw new FormatError(`sync message: ${field} needs ${n} bytes at offset ${this.at}, ${this.left} left`, { file: this.where, offset: this.at, field });
  }
  u8(f: string): number {
    this.need(1, f);
    return this.view.getUint8(this.at++);
  }
  u16(f: string): number {
    this.need(2, f);
    const v = this.view.getUint16(this.at, true);
    this.at += 2;
    return v;
  }
  u32(f: string): number {
    this.need(4, f);
    const v = this.view.getUint32(this.at, true);
    this.at += 4;
    return v;
  }
  f64(f: string): number {
    this.need(8, f);
    const v = this.view.getFloat64(this.at, true);
    this.at += 8;
    return v;
  }
  str(f: string): string {
    const n = this.u16(f);
    this.need(n, f);
    try {
      return dec.decode(this.b.subarray(this.at, this.at + n));
    } catch {
      throw new FormatError(`sync message: ${f} is not UTF-8`, { file: this.where, offset: this.at, field: f });
    } finally {
      this.at += n;
    }
  }
  fail(what: string, field: string): never {
    throw new FormatError(`sync message: ${what}`, { file: this.where, offset: this.at, field });
  }
}

/**
 * Decodes one sync message; `where` names it in errors (e.g. `kafka:topic/0@42`).
 * Anything malformed is a FormatError with the offset and field; counts are
 * checked against the bytes present before anything is allocated.
 */
export function decodeSyncMessage(bytes: Uint8Array, where = 'sync message'): SyncMessage {
  const r = new Reader(bytes, where);
  r.need(4, 'magic');
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic !== SYNC_MAGIC) r.fail(`magic is ${JSON.stringify(magic)}, expected ${SYNC_MAGIC}`, 'magic');
  r.at = 4;
  const format = r.u8('format');
  if (format !== SYNC_FORMAT) r.fail(`format ${format} is not supported (this reader: ${SYNC_FORMAT})`, 'format');
  const kind = r.u8('kind');
  r.u16('reserved');
  const lo = r.u32('version');
  const hi = r.u32('version');
  if (hi >= 2 ** 21) r.fail('version exceeds 2^53', 'version');
  const h: SyncHeader = { version: hi * 2 ** 32 + lo, publishedAt: r.f64('publishedAt'), modelName: r.str('model'), publisher: r.str('publisher') };
  if (kind === KIND_ROWS) {
    const table = r.str('table');
    const dim = r.u16('dim');
    if (dim === 0) r.fail('dim is 0', 'dim');
    const dtype = r.u8('dtype');
    if (dtype !== 1 && dtype !== 2) r.fail(`dtype ${dtype} is neither 1 (float32) nor 2 (float16)`, 'dtype');
    const n = r.u32('count');
    const width = dtype === 2 ? 2 : 4;
    r.need(n * 8 + n * dim * width, 'rows');
    const ids = new Uint32Array(n * 2);
    for (let i = 0; i < ids.length; i++) ids[i] = r.u32('ids');
    const values = new Float32Array(n * dim);
    const view = new DataView(bytes.buffer, bytes.byteOffset + r.at, n * dim * width);
    for (let i = 0; i < values.length; i++) values[i] = width === 2 ? fromHalf(view.getUint16(2 * i, true)) : view.getFloat32(4 * i, true);
    r.at += n * dim * width;
    if (r.left !== 0) r.fail(`${r.left} bytes after the rows`, 'rows');
    return { kind: 'rows', ...h, table, dim, fp16: dtype === 2, ids, values };
  }
  if (kind !== KIND_DENSE) r.fail(`kind ${kind} is neither 1 (rows) nor 2 (dense)`, 'kind');
  const count = r.u16('params');
  const shapes: { name: string; shape: number[]; size: number }[] = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    const name = r.str('param');
    const rank = r.u8('rank');
    const shape = Array.from({ length: rank }, () => r.u32('shape'));
    const size = shape.reduce((a, b) => a * b, 1);
    total += size;
    if (total * 4 > r.left) r.fail(`param ${name} of shape [${shape}] needs more bytes than the message holds`, name);
    shapes.push({ name, shape, size });
  }
  if (r.left !== total * 4) r.fail(`${r.left} bytes of values for ${total} float32 weights`, 'values');
  const view = new DataView(bytes.buffer, bytes.byteOffset + r.at, total * 4);
  let k = 0;
  const params = shapes.map((s) => {
    const values = new Float32Array(s.size);
    for (let i = 0; i < s.size; i++) values[i] = view.getFloat32(4 * k++, true);
    return { name: s.name, shape: s.shape, values };
  });
  return { kind: 'dense', ...h, params };
}
