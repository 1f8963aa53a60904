import Long from 'long';
import { ConfigError, FormatError } from '../../errors.js';
import { readRecordFile } from '../../io/record-file.js';
import { readTFRecords } from '../../io/tfrecord.js';
import { monolith, parser } from '../../proto.js';
import type { RecordVariant } from '../parse/parse-config.js';
import { framingOf, type RecordInput } from './record-input.js';

/** What the first records of a file hold: per sparse slot / feature name and dense feature, how many records have it. */
export interface FeatureCensus {
  records: number;
  slots: Map<number, number>;
  sparse: Map<string, number>;
  dense: Map<string, { records: number; width: number }>;
  withLabel: number;
}

export interface InputCheck {
  census: FeatureCensus;
  /** Lines to show the user: features the configuration drops or misses in part of the records. */
  warnings: string[];
}

const newCensus = (): FeatureCensus => ({ records: 0, slots: new Map(), sparse: new Map(), dense: new Map(), withLabel: 0 });
const bump = <K>(m: Map<K, number>, k: K) => m.set(k, (m.get(k) ?? 0) + 1);
const hiWord = (v: number | Long) => (Long.isLong(v) ? (v as Long).high >>> 0 : Long.fromValue(v as number).high >>> 0);

function countDense(c: FeatureCensus, name: string, width: number): void {
  const d = c.dense.get(name) ?? { records: 0, width: 0 };
  d.records++;
  d.width = Math.max(d.width, width);
  c.dense.set(name, d);
}

function countFeature(c: FeatureCensus, name: string, f: monolith.io.proto.IFeature): void {
  const t = (f as monolith.io.proto.Feature).type;
  if (!t) return;
  if (t.startsWith('fid')) bump(c.sparse, name);
  else if (t === 'floatList' || t === 'doubleList' || t === 'int64List') countDense(c, name, (f[t]?.value ?? []).length);
  else if (t === 'floatValue' || t === 'doubleValue' || t === 'int64Value') countDense(c, name, 1);
}

/** Adds one record to the census; a record that does not decode is a FormatError naming where it is. */
function addRecord(c: FeatureCensus, variant: RecordVariant, bytes: Uint8Array, where: { file: string; offset: number }): void {
  try {
    if (variant === 'instance') {
      const inst = parser.proto.Instance.decode(bytes);
      const slots = new Set(inst.fid.map((f) => hiWord(f) >>> 22));
      for (const s of slots) bump(c.slots, s);
      for (const f of inst.feature) {
        const name = f.name ?? '';
        if (f.fid?.length || f.fidList?.length) bump(c.sparse, name);
        const width = (f.floatValue?.length ?? 0) + (f.int64Value?.length ?? 0);
        if (width > 0) countDense(c, name, width);
      }
      if (inst.label.length > 0) c.withLabel++;
    } else if (variant === 'example') {
      const ex = monolith.io.proto.Example.decode(bytes);
      for (const nf of ex.namedFeature) if (nf.feature) countFeature(c, nf.name ?? '', nf.feature);
      if (ex.label.length > 0 || ex.namedFeature.some((nf) => nf.name === 'label')) c.withLabel++;
    } else {
      const eb = monolith.io.proto.ExampleBatch.decode(bytes);
      for (const l of eb.namedFeatureList) {
        const f = l.feature?.[0];
        if (f) countFeature(c, l.name ?? '', f);
      }
      if (eb.namedFeatureList.some((l) => l.name === '__LABEL__')) c.withLabel++;
    }
  } catch (err) {
    throw new FormatError(`record ${c.records} does not decode as ${variant}: ${(err as Error).message} (is --layout / --variant right?)`, where, { cause: err });
  }
  c.records++;
}

function looksLikeRecord(variant: RecordVariant, bytes: Uint8Array): boolean {
  if (bytes.length === 0) return false;
  try {
    if (variant === 'instance') {
      const i = parser.proto.Instance.decode(bytes);
      return i.fid.length > 0 || i.feature.length > 0 || i.label.length > 0;
    }
    if (variant === 'example') return monolith.io.proto.Example.decode(bytes).namedFeature.length > 0;
    return monolith.io.proto.ExampleBatch.decode(bytes).namedFeatureList.length > 0;
  } catch {
    return false;
  }
}

async function firstPayloads(file: string, input: RecordInput, max: number): Promise<{ payload: Uint8Array; offset: number }[]> {
  const out: { payload: Uint8Array; offset: number }[] = [];
  const f = framingOf(input.format);
  if (f.framing === 'tfrecord') {
    let offset = 0;
    for await (const p of readTFRecords(file)) {
      out.push({ payload: p, offset });
      offset += 16 + p.length;
      if (out.length >= max) break;
    }
    return out;
  }
  for await (const r of readRecordFile(file, { ...f.layout, maxRecords: max })) out.push({ payload: r.payload, offset: r.offset });
  return out;
}

/** Names as short ranges: dense_0, dense_1, …, dense_12 → dense_0..dense_12. */
export function compactNames(names: string[]): string {
  const parts: string[] = [];
  const sorted = [...names].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  for (let i = 0; i < sorted.length; ) {
    const m = /^(.*?)(\d+)$/.exec(sorted[i]!);
    let j = i;
    if (m) while (j + 1 < sorted.length && sorted[j + 1] === `${m[1]}${Number(m[2]) + (j + 1 - i)}`) j++;
    parts.push(j > i + 1 ? `${sorted[i]}..${sorted[j]}` : sorted.slice(i, j + 1).join(', '));
    i = j + 1;
  }
  return parts.join(', ');
}

/**
 * Reads the first `sample` records of `file` as `input` says and checks the
 * framing and the parse configuration against them:
 * - a plain file read with a sort-id layout (every second record would be
 *   taken for a sort id) or a sort-id file read as plain is an error naming the file;
 * - a configured dense feature no record has (the model would see zeros), or
 *   no labels when `needLabels`, is an error;
 * - features the data has and the configuration drops, or configured ones
 *   missing from part of the records, are warnings with counts.
 */
export async function checkRecordFile(file: string, input: RecordInput, opts: { sample?: number; needLabels?: boolean } = {}): Promise<InputCheck> {
  const sample = opts.sample ?? 1000;
  let payloads: { payload: Uint8Array; offset: number }[];
  try {
    payloads = await firstPayloads(file, input, sample);
  } catch (err) {
    if (!(err instanceof FormatError)) throw err;
    const loc = { file: err.file ?? file, offset: err.offset, field: err.field, slot: err.slot };
    const prefix = new FormatError('', { file: err.file, offset: err.offset, field: err.field, slot: err.slot }).message;
    const what = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
    throw new (err.constructor as typeof FormatError)(`${what} (read with --layout ${input.format}; is that how the file is framed?)`, loc, { cause: err });
  }
  if (payloads.length === 0) return { census: newCensus(), warnings: [`${file}: no records`] };
  const first = payloads[0]!;
  if (input.format === 'plain' && first.payload.length === 0) {
    throw new FormatError('the first record is empty: the file looks like it has sort-id headers (try --layout sort_id)', { file, offset: first.offset, field: 'size' });
  }
  if (input.format === 'sort_id' || input.format === 'sort_id_kafka_dump') {
    // Read as plain, the first "record" is the first sort id.
    const [asPlain] = await firstPayloads(file, { ...input, format: 'plain' }, 1);
    if (asPlain && looksLikeRecord(input.variant, asPlain.payload)) {
      throw new FormatError(`the sort id of the first record is itself a serialized ${input.variant}: the file looks plain (try --layout plain); read as ${input.format}, every second record would be skipped`, { file, offset: 8, field: 'sort_id' });
    }
  }
  const c = newCensus();
  for (const p of payloads) addRecord(c, input.variant, p.payload, { file, offset: p.offset });
  return { census: c, warnings: compare(file, input, c, opts.needLabels ?? false) };
}

function compare(file: string, input: RecordInput, c: FeatureCensus, needLabels: boolean): string[] {
  const n = c.records;
  const warn: string[] = [];
  const of = (k: number) => `${k} of ${n} records`;
  const cfg = input.parse;
  const sparseSeen = (name: string, slot: number) => (input.variant === 'instance' ? (c.slots.get(slot) ?? 0) + (c.sparse.get(name) ?? 0) : (c.sparse.get(name) ?? 0));
  for (const s of cfg.sparse) {
    const k = sparseSeen(s.name, s.slot);
    if (k < n) warn.push(`sparse feature ${s.name} (slot ${s.slot}) is in ${of(k)} of ${file}${k === 0 ? ': its embedding sees no ids' : ''}`);
  }
  const cfgSlots = new Set(cfg.sparse.map((s) => s.slot));
  const cfgNames = new Set(cfg.sparse.map((s) => s.name));
  const droppedSlots = input.variant === 'instance' ? [...c.slots.keys()].filter((s) => !cfgSlots.has(s)).sort((a, b) => a - b) : [];
  if (droppedSlots.length) warn.push(`${file} has fid-v1 slots the parse configuration drops: ${droppedSlots.map((s) => `${s} (${c.slots.get(s)})`).join(', ')} (records of ${n})`);
  const droppedSparse = [...c.sparse.keys()].filter((k) => !cfgNames.has(k) && k !== '__LINE_ID__');
  if (droppedSparse.length) warn.push(`${file} has sparse features the parse configuration drops: ${compactNames(droppedSparse)}`);
  const cfgDense = new Map((cfg.dense ?? []).map((d) => [d.name, d.width]));
  const missingDense: string[] = [];
  for (const [name, width] of cfgDense) {
    const d = c.dense.get(name);
    if (!d) missingDense.push(name);
    else {
      if (d.records < n) warn.push(`dense feature ${name} is in ${of(d.records)} of ${file}; the others read zeros`);
      if (d.width !== width) warn.push(`dense feature ${name} has up to ${d.width} values in ${file}, the configuration reads ${width}${d.width > width ? ' (the rest are dropped)' : ' (the rest are zeros)'}`);
    }
  }
  const droppedDense = [...c.dense.keys()].filter((k) => !cfgDense.has(k) && k !== 'label' && k !== '__LABEL__' && k !== 'instance_weight');
  if (missingDense.length) {
    const has = droppedDense.length ? `; the records have dense features ${compactNames(droppedDense)}${droppedDense.length > 1 ? ` (to read them as one input: --dense-group ${missingDense[0]}=${compactNames(droppedDense).split(', ')[0]})` : ''}` : '; the records have no dense features';
    throw new ConfigError(`${file}: dense feature(s) ${missingDense.join(', ')} are in none of the first ${n} records, the model would see only zeros${has}`);
  }
  if (droppedDense.length) warn.push(`${file} has dense features the parse configuration drops: ${droppedDense.map((k) => `${k} (${c.dense.get(k)!.records})`).join(', ')} (records of ${n})`);
  if (needLabels && (cfg.labelWidth ?? 1) > 0 && c.withLabel === 0) throw new ConfigError(`${file}: none of the first ${n} records has a label`);
  if (needLabels && c.withLabel > 0 && c.withLabel < n) warn.push(`${file}: ${of(n - c.withLabel)} have no label (read as the missing-label value)`);
  return warn;
}
