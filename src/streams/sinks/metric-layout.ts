import { join } from 'node:path';
import { FormatError } from '../../errors.js';

/** Messages are JSON objects once parsed; layouts and keys read fields from them. */
export type MetricRecord = Record<string, unknown>;

/** default_parse_fn: JSON text (string or bytes) is parsed, anything else passes as is. */
export function defaultParseFn(obj: unknown): unknown {
  if (typeof obj === 'string' || obj instanceof Uint8Array) {
    const text = typeof obj === 'string' ? obj : Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength).toString('utf8');
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new FormatError(`metric message is not JSON: ${(err as Error).message}: ${text.slice(0, 80)}`, {}, { cause: err });
    }
  }
  return obj;
}

/**
 * JSON the way Python's `json.dumps` writes it by default: `", "` and
 * `": "` separators and non-ASCII characters escaped, so layouts match the
 * seed's files byte for byte.
 */
export function pythonJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
    return String(value);
  }
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    return `[${Array.from(value as ArrayLike<unknown>, pythonJsonDumps).join(', ')}]`;
  }
  if (typeof value === 'object') {
    return `{${Object.entries(value as object)
      .map(([k, v]) => `${pythonJsonDumps(k)}: ${pythonJsonDumps(v)}`)
      .join(', ')}}`;
  }
  throw new TypeError(`Object of type ${typeof value} is not JSON serializable`);
}

/** default_layout_fn: strings as they are, anything else as JSON (its String() if that fails). */
export function defaultLayoutFn(obj: unknown): string {
  if (typeof obj === 'string') return obj;
  try {
    return pythonJsonDumps(obj);
  } catch {
    return String(obj);
  }
}

/** Python's `a or b or c`: the first truthy value. */
function firstTruthy(obj: MetricRecord, keys: string[]): unknown {
  for (const k of keys) if (obj[k]) return obj[k];
  return undefined;
}

/** Python's f-string of a value (None for missing). */
const fstr = (v: unknown): string => (v === undefined || v === null ? 'None' : String(v));

/** vepfs_layout_fn: `req_time;gid;uid;predict;label`, predict and label as JSON. */
export function vepfsLayoutFn(obj: MetricRecord): string {
  const reqTime = firstTruthy(obj, ['__REQ_TIME__', 'req_time']);
  const gid = firstTruthy(obj, ['__FEED_ID__', 'feedid', 'gid']) ?? 'gid';
  const uid = firstTruthy(obj, ['__UID__', 'userid', 'uid']) ?? 'uid';
  const predict = 'predict' in obj ? pythonJsonDumps(obj.predict) : undefined;
  const label = 'label' in obj ? pythonJsonDumps(obj.label) : undefined;
  return `${fstr(reqTime)};${fstr(gid)};${fstr(uid)};${fstr(predict)};${fstr(label)}`;
}

/** A req_time as a date directory: strings as they are (`20220927`), Unix seconds as their UTC `YYYYMMDD`. */
export function dateDirOf(reqTime: unknown): string {
  if (typeof reqTime === 'string') return reqTime;
  if (typeof reqTime === 'number' || typeof reqTime === 'bigint') {
    const d = new Date(Number(reqTime) * 1000);
    if (Number.isNaN(d.getTime())) throw new FormatError(`req_time ${reqTime} is not a time`, { field: 'req_time' });
    const p = (n: number) => String(n).padStart(2, '0');
    return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}`;
  }
  throw new FormatError('metric record has no req_time', { field: 'req_time' });
}

/** vepfs_key_fn: `<baseName>/<model_name>/<YYYYMMDD>/worker_<workerId>`. */
export function vepfsKeyFn(obj: MetricRecord, workerId: number | undefined, baseName: string): string {
  const modelName = (obj.model_name as string | undefined) || 'model_name';
  const date = dateDirOf(firstTruthy(obj, ['__REQ_TIME__', 'req_time']));
  return join(baseName, modelName, date, `worker_${workerId}`);
}
