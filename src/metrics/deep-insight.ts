import { ConfigError } from '../errors.js';

/** Values of one extra field, one per row; floats go to `extra_float`, integers to `extra_int`, strings to `extra_str`. */
export type ExtraFieldValues = Float32Array | Float64Array | Int32Array | BigInt64Array | BigUint64Array | readonly string[];

export interface DeepInsightCommon {
  modelName: string;
  /** Fraction of users whose rows are written (default 0.01). */
  sampleRatio?: number;
  /** Unix seconds of training written in each message; 0 with useZeroTrainTime. */
  trainTime?: number;
  useZeroTrainTime?: boolean;
  /** Whether a row is written; default uidSampled (the same users every time). */
  sampler?: (uid: bigint, sampleRatio: number) => boolean;
}

export interface WriteDeepInsightArgs extends DeepInsightCommon {
  uids: ArrayLike<bigint | number>;
  reqTimes: ArrayLike<bigint | number>;
  labels: ArrayLike<number>;
  preds: ArrayLike<number>;
  sampleRates: ArrayLike<number>;
  /** Default 'ctr_head' (the op's default). */
  target?: string;
}

export interface WriteDeepInsightV2Args extends DeepInsightCommon {
  reqTimes: ArrayLike<bigint | number>;
  /** Per target, one value per row: shape (numTargets, batchSize). */
  labels: readonly ArrayLike<number>[];
  preds: readonly ArrayLike<number>[];
  sampleRates: readonly ArrayLike<number>[];
  targets: readonly string[];
  extraFieldsKeys: readonly string[];
  extraFieldsValues: readonly ExtraFieldValues[];
}

const MASK64 = (1n << 64n) - 1n;

/** splitmix64 of the uid, as a fraction in [0, 1). */
function uidFraction(uid: bigint): number {
  let z = (BigInt.asUintN(64, uid) + 0x9e3779b97f4a7c15n) & MASK64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  z ^= z >> 31n;
  return Number(z >> 11n) / 2 ** 53;
}

/** Samples by user: a uid is in or out for every one of its rows and every run. */
export function uidSampled(uid: bigint, sampleRatio: number): boolean {
  return uidFraction(uid) < sampleRatio;
}

/** The shortest decimal that reads back as the same float32. */
export function float32Number(v: number): number {
  const f = Math.fround(v);
  if (!Number.isFinite(f) || f === 0) return f;
  for (let p = 1; p <= 9; p++) {
    const n = Number(f.toPrecision(p));
    if (Math.fround(n) === f) return n;
  }
  return f;
}

/** An int64 for JSON: a number when exact, else its decimal string. */
function int64Json(v: bigint | number): number | string {
  if (typeof v === 'number') return v;
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

const toBigInt = (v: bigint | number): bigint => (typeof v === 'bigint' ? v : BigInt(Math.trunc(v)));

function trainTimeOf(c: DeepInsightCommon): number {
  if (c.useZeroTrainTime) return 0;
  return c.trainTime ?? Math.floor(Date.now() / 1000);
}

function checkLength(what: string, values: ArrayLike<unknown>, rows: number): void {
  if (values.length !== rows) throw new ConfigError(`deep insight: ${what} has ${values.length} values, the batch has ${rows} rows`);
}

/**
 * One JSON message (the fields of the client's SendV2): model_name,
 * uid (decimal string: exact over 64 bits), req_time, train_time,
 * sample_ratio, targets, and per target `predict`, `label`, `sample_rate`,
 * then the extra fields grouped by type.
 */
function message(
  c: DeepInsightCommon,
  targets: readonly string[],
  uid: bigint,
  reqTime: bigint | number,
  trainTime: number,
  labels: number[],
  preds: number[],
  sampleRates: number[],
  extra?: { float: Record<string, number>; int: Record<string, number | string>; str: Record<string, string> },
): string {
  const per = (vals: number[]) => Object.fromEntries(targets.map((t, j) => [t, float32Number(vals[j]!)]));
  const msg: Record<string, unknown> = {
    model_name: c.modelName,
    uid: uid.toString(),
    req_time: int64Json(reqTime),
    train_time: trainTime,
    sample_ratio: float32Number(c.sampleRatio ?? 0.01),
    targets,
    predict: per(preds),
    label: per(labels),
    sample_rate: per(sampleRates),
  };
  if (extra) {
    if (Object.keys(extra.float).length) msg.extra_float = extra.float;
    if (Object.keys(extra.int).length) msg.extra_int = extra.int;
    if (Object.keys(extra.str).length) msg.extra_str = extra.str;
  }
  return JSON.stringify(msg);
}

/**
 * write_deep_insight (single target): one message per row, '' for rows
 * whose user is not sampled.
 */
export function writeDeepInsight(args: WriteDeepInsightArgs): string[] {
  const rows = args.labels.length;
  for (const [what, v] of [['uids', args.uids], ['reqTimes', args.reqTimes], ['preds', args.preds], ['sampleRates', args.sampleRates]] as const) {
    checkLength(what, v, rows);
  }
  const ratio = args.sampleRatio ?? 0.01;
  const sampled = args.sampler ?? uidSampled;
  const trainTime = trainTimeOf(args);
  const targets = [args.target ?? 'ctr_head'];
  const out: string[] = new Array(rows);
  for (let i = 0; i < rows; i++) {
    const uid = toBigInt(args.uids[i]!);
    out[i] = sampled(uid, ratio)
      ? message(args, targets, uid, args.reqTimes[i]!, trainTime, [args.labels[i]!], [args.preds[i]!], [args.sampleRates[i]!])
      : '';
  }
  return out;
}

/**
 * write_deep_insight_v2 (several targets in one message, extra fields):
 * the `uid` extra field is the message's uid rather than an extra field.
 */
export function writeDeepInsightV2(args: WriteDeepInsightV2Args): string[] {
  const n = args.targets.length;
  if (n === 0) throw new ConfigError('deep insight v2: targets is empty');
  for (const [what, m] of [['labels', args.labels], ['preds', args.preds], ['sampleRates', args.sampleRates]] as const) {
    if (m.length !== n) throw new ConfigError(`deep insight v2: ${what} has ${m.length} rows, there are ${n} targets`);
  }
  if (args.extraFieldsKeys.length !== args.extraFieldsValues.length) {
    throw new ConfigError(`deep insight v2: ${args.extraFieldsKeys.length} extra field keys but ${args.extraFieldsValues.length} value lists`);
  }
  const rows = args.reqTimes.length;
  for (let j = 0; j < n; j++) {
    checkLength(`labels[${args.targets[j]}]`, args.labels[j]!, rows);
    checkLength(`preds[${args.targets[j]}]`, args.preds[j]!, rows);
    checkLength(`sampleRates[${args.targets[j]}]`, args.sampleRates[j]!, rows);
  }
  args.extraFieldsValues.forEach((v, k) => checkLength(`extra field ${args.extraFieldsKeys[k]}`, v, rows));
  const uidIndex = args.extraFieldsKeys.indexOf('uid');
  if (uidIndex < 0) throw new ConfigError('deep insight v2: the uid extra field is required');
  const uids = args.extraFieldsValues[uidIndex]!;
  const ratio = args.sampleRatio ?? 0.01;
  const sampled = args.sampler ?? uidSampled;
  const trainTime = trainTimeOf(args);
  const out: string[] = new Array(rows);
  for (let i = 0; i < rows; i++) {
    const rawUid = uids[i]!;
    const uid = typeof rawUid === 'string' ? BigInt(rawUid) : toBigInt(rawUid);
    if (!sampled(uid, ratio)) {
      out[i] = '';
      continue;
    }
    const extra = { float: {} as Record<string, number>, int: {} as Record<string, number | string>, str: {} as Record<string, string> };
    args.extraFieldsKeys.forEach((key, k) => {
      if (k === uidIndex) return;
      const values = args.extraFieldsValues[k]!;
      const v = values[i]!;
      if (typeof v === 'string') extra.str[key] = v;
      else if (values instanceof Float32Array || values instanceof Float64Array) extra.float[key] = float32Number(v as number);
      else extra.int[key] = int64Json(v as number | bigint);
    });
    const col = (m: readonly ArrayLike<number>[]) => m.map((a) => a[i]!);
    out[i] = message(args, args.targets, uid, args.reqTimes[i]!, trainTime, col(args.labels), col(args.preds), col(args.sampleRates), extra);
  }
  return out;
}
