import type { ExportedDenseGroup } from '../../export/export-manifest.js';
import type { Batch, DenseColumn } from '../../batch/batch.js';
import { ConfigError } from '../../errors.js';
import type { RecordLayout } from '../../io/record-file.js';
import { resolveParseConfig, type DenseFeatureSpec, type ParseConfig, type RecordVariant } from '../parse/parse-config.js';
import type { ModelSpec } from '../../model/model-spec.js';
import type { FileFraming } from './file-source.js';

/**
 * How records are framed in a file. Monolith record files put a size (u64 LE)
 * before each payload and, depending on how they were written, a header before
 * the size:
 * - `plain`: no header;
 * - `sort_id`: a sort id (u64 length + bytes), FilePBDataset's default;
 * - `sort_id_kafka_dump`: a sort id, then a kafka dump word;
 * - `kafka_dump_prefix`: a kafka dump prefix (that may carry the sort id length), then the sort id;
 * - `lagrangex`: one 8-byte lagrangex header;
 * - `tfrecord`: TFRecord framing (length, CRCs);
 * - `message` (Kafka only): each message is one record.
 */
export const RECORD_FORMATS = ['plain', 'sort_id', 'sort_id_kafka_dump', 'kafka_dump_prefix', 'lagrangex', 'tfrecord', 'message'] as const;
export type RecordFormat = (typeof RECORD_FORMATS)[number];

const LAYOUTS: Record<Exclude<RecordFormat, 'tfrecord' | 'message'>, RecordLayout> = {
  plain: {},
  sort_id: { sortId: true },
  sort_id_kafka_dump: { sortId: true, kafkaDump: true },
  kafka_dump_prefix: { sortId: true, kafkaDumpPrefix: true },
  lagrangex: { lagrangexHeader: true },
};

/** The file-source framing and header layout of a format. */
export function framingOf(format: RecordFormat): { framing: FileFraming; layout?: RecordLayout } {
  if (format === 'message') throw new ConfigError('layout "message" is for Kafka topics; files need plain, sort_id, … or tfrecord');
  return format === 'tfrecord' ? { framing: 'tfrecord' } : { framing: 'record', layout: { ...LAYOUTS[format] } };
}

/** The Kafka-source framing of a format: one record per message, or record framing inside messages. */
export function kafkaFramingOf(format: RecordFormat): { framing: 'message' | 'record'; layout?: RecordLayout } {
  if (format === 'tfrecord') throw new ConfigError('layout "tfrecord" is for files; a Kafka topic takes message or a record layout');
  return format === 'message' ? { framing: 'message' } : { framing: 'record', layout: { ...LAYOUTS[format] } };
}

/** Several dense features read side by side into one model input (`dense` = dense_0 … dense_12). */
export interface DenseGroup {
  name: string;
  /** Names of dense features of `parse.dense`, in the order their values are laid out. */
  members: string[];
}

/** Everything needed to turn records into batches: framing, record type, parse configuration, dense groups. */
export interface RecordInput {
  format: RecordFormat;
  variant: RecordVariant;
  parse: ParseConfig;
  denseGroups?: DenseGroup[];
}

const VARIANTS: readonly RecordVariant[] = ['instance', 'example', 'example_batch'];

/** Checks a RecordInput (from flags or a settings file); errors say which field is wrong. */
export function validateRecordInput(x: unknown, where = 'input'): RecordInput {
  const o = x as Partial<RecordInput> | undefined;
  if (!o || typeof o !== 'object') throw new ConfigError(`${where}: not an object`);
  if (!RECORD_FORMATS.includes(o.format as RecordFormat)) throw new ConfigError(`${where}.format must be one of ${RECORD_FORMATS.join(', ')}, got ${JSON.stringify(o.format)}`);
  if (!VARIANTS.includes(o.variant as RecordVariant)) throw new ConfigError(`${where}.variant must be one of ${VARIANTS.join(', ')}, got ${JSON.stringify(o.variant)}`);
  const parse = resolveParseConfig(o.parse as ParseConfig);
  const groups = o.denseGroups ?? [];
  if (!Array.isArray(groups)) throw new ConfigError(`${where}.denseGroups must be a list`);
  const grouped = new Set<string>();
  for (const g of groups) {
    if (typeof g?.name !== 'string' || !g.name || !Array.isArray(g.members) || g.members.length === 0) throw new ConfigError(`${where}.denseGroups: each group needs a name and members`);
    if (parse.denseByName.has(g.name) && !g.members.includes(g.name)) throw new ConfigError(`dense group "${g.name}" has the name of a dense feature it does not contain`);
    for (const m of g.members) {
      if (!parse.denseByName.has(m)) throw new ConfigError(`dense group "${g.name}": member "${m}" is not a configured dense feature`);
      if (grouped.has(m)) throw new ConfigError(`dense feature "${m}" is in two dense groups`);
      grouped.add(m);
    }
  }
  return { format: o.format!, variant: o.variant!, parse: o.parse!, ...(groups.length ? { denseGroups: groups.map((g) => ({ name: g.name, members: [...g.members] })) } : {}) };
}

/** The dense inputs a batch of this input holds after grouping, in batch order. */
export function denseInputsOf(input: RecordInput): DenseFeatureSpec[] {
  const dense = input.parse.dense ?? [];
  const groupOf = new Map<string, DenseGroup>();
  for (const g of input.denseGroups ?? []) for (const m of g.members) groupOf.set(m, g);
  const out: DenseFeatureSpec[] = [];
  const done = new Set<DenseGroup>();
  for (const d of dense) {
    const g = groupOf.get(d.name);
    if (!g) out.push({ ...d });
    else if (!done.has(g)) {
      done.add(g);
      out.push({ name: g.name, width: g.members.reduce((s, m) => s + dense.find((x) => x.name === m)!.width, 0) });
    }
  }
  return out;
}

/** The dense groups with their members' widths, as an export records them for serving. */
export function exportedDenseGroups(input: RecordInput | undefined): ExportedDenseGroup[] {
  const dense = input?.parse.dense ?? [];
  return (input?.denseGroups ?? []).map((g) => ({ name: g.name, members: g.members.map((m) => ({ name: m, width: dense.find((x) => x.name === m)!.width })) }));
}

/** `batch` with each group's member columns replaced by one column (at the first member's place). */
export function groupDense(batch: Batch, groups: readonly DenseGroup[] | undefined): Batch {
  if (!groups?.length) return batch;
  const groupOf = new Map<string, DenseGroup>();
  for (const g of groups) for (const m of g.members) groupOf.set(m, g);
  const dense: DenseColumn[] = [];
  const done = new Set<DenseGroup>();
  for (const c of batch.dense) {
    const g = groupOf.get(c.name);
    if (!g) {
      dense.push(c);
      continue;
    }
    if (done.has(g)) continue;
    done.add(g);
    const cols = g.members.map((m) => {
      const col = batch.dense.find((x) => x.name === m);
      if (!col) throw new ConfigError(`dense group "${g.name}": the batch has no column "${m}"`);
      return col;
    });
    const width = cols.reduce((s, col) => s + col.width, 0);
    const values = new Float32Array(batch.rows * width);
    for (let r = 0; r < batch.rows; r++) {
      let at = r * width;
      for (const col of cols) {
        values.set(col.values.subarray(r * col.width, (r + 1) * col.width), at);
        at += col.width;
      }
    }
    dense.push({ name: g.name, width, values });
  }
  return { ...batch, dense };
}

/** One line describing the input, for logs and reports. */
export function describeInput(input: RecordInput): string {
  const dense = denseInputsOf(input).map((d) => `${d.name}[${d.width}]`);
  const sparse = input.parse.sparse.length;
  return `${input.format} ${input.variant} records: ${sparse} sparse feature(s), dense ${dense.length ? dense.join(' ') : 'none'}, ${input.parse.labelWidth ?? 1} label(s)${input.parse.fidV1ToV2 ? ', fid v1 read as v2' : ''}`;
}

/**
 * Checks that batches of `input` feed every input of the model: each
 * embedding feature has a sparse column (by name or slot), each dense input
 * a dense column of its width, each head a label column.
 */
export function checkModelInput(spec: ModelSpec, input: RecordInput, needLabels = true): void {
  const problems: string[] = [];
  const sparse = input.parse.sparse;
  for (const f of spec.features) {
    if (!sparse.some((s) => s.name === f.name || s.slot === f.slot)) problems.push(`sparse feature ${f.name} (slot ${f.slot})`);
  }
  const dense = denseInputsOf(input);
  for (const d of spec.denseInputs) {
    const got = dense.find((x) => x.name === d.name);
    if (!got) problems.push(`dense input ${d.name} of width ${d.width}`);
    else if (got.width !== d.width) problems.push(`dense input ${d.name} of width ${d.width} (the input gives width ${got.width})`);
  }
  const labels = input.parse.labelWidth ?? 1;
  if (needLabels) for (const h of spec.heads) if (h.labelIndex >= labels) problems.push(`label column ${h.labelIndex} for head ${h.name} (--label-width is ${labels})`);
  if (problems.length) throw new ConfigError(`model ${spec.name} needs ${problems.join('; ')}, which the parse configuration does not read (it reads: ${describeInput(input)})`);
}
