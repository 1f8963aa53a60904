import { InvalidArgumentError, Option, type Command } from 'commander';
import { ConfigError } from '../errors.js';
import type { DenseFeatureSpec, ParseConfig, RecordVariant, SparseFeatureSpec } from '../streams/parse/parse-config.js';
import { RECORD_FORMATS, validateRecordInput, type DenseGroup, type RecordFormat, type RecordInput } from '../streams/sources/record-input.js';
import { list, nonNegativeInt } from './options.js';

/** `a..b` → a, a+1, …, b; `name_0..name_12` → name_0 … name_12; anything else as is. */
function expandRange(item: string): string[] {
  const m = /^(.*?)(\d+)\.\.(.*?)(\d+)$/.exec(item);
  if (!m) return [item];
  if (m[1] !== m[3]) throw new InvalidArgumentError(`"${item}": both ends of a range need the same prefix`);
  const a = Number(m[2]);
  const b = Number(m[4]);
  if (!(b >= a) || b - a > 100_000) throw new InvalidArgumentError(`"${item}" is not an increasing range`);
  return Array.from({ length: b - a + 1 }, (_, i) => `${m[1]}${a + i}`);
}
const expandList = (v: string): string[] => list(v).flatMap(expandRange);

function slotArg(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`slot "${v}" is not an integer in 0..65535`);
  return n;
}

export const slotList = (v: string): number[] => expandList(v).map(slotArg);

function widthOf(item: string, what: string): { name: string; width: number } {
  const [name, w, extra] = item.split(':');
  if (!name || extra !== undefined) throw new InvalidArgumentError(`${what} "${item}" must be NAME or NAME:WIDTH`);
  if (w === undefined) return { name, width: 1 };
  const width = Number(w);
  if (!Number.isInteger(width) || width < 1) throw new InvalidArgumentError(`${what} "${item}": width must be an integer >= 1`);
  return { name, width };
}

/** `name:slot,…` */
export function sparseList(v: string): SparseFeatureSpec[] {
  return list(v).map((item) => {
    const [name, slot, extra] = item.split(':');
    if (!name || slot === undefined || extra !== undefined) throw new InvalidArgumentError(`sparse feature "${item}" must be NAME:SLOT`);
    return { name, slot: slotArg(slot) };
  });
}

/** `name[:width],…` with ranges (`dense_0..dense_12`). */
export const denseList = (v: string): DenseFeatureSpec[] => expandList(v).map((i) => widthOf(i, 'dense feature'));

/** `group=member[:width],…` (repeatable). */
export function denseGroupArg(v: string, prev: { name: string; members: DenseFeatureSpec[] }[] = []) {
  const eq = v.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`"${v}" must be GROUP=MEMBERS, e.g. dense=dense_0..dense_12`);
  const members = denseList(v.slice(eq + 1));
  if (members.length === 0) throw new InvalidArgumentError(`"${v}" lists no members`);
  return [...prev, { name: v.slice(0, eq), members }];
}

/** The flags that say how records are read (layout, variant, features, labels). None has a silent default. */
export function withInputFlags(cmd: Command): Command {
  return cmd
    .addOption(new Option('--layout <layout>', 'how records are framed: plain (size + payload), sort_id, sort_id_kafka_dump, kafka_dump_prefix, lagrangex, tfrecord; message (Kafka: one record per message)').choices([...RECORD_FORMATS]))
    .addOption(new Option('--variant <type>', 'record type (default instance)').choices(['instance', 'example', 'example_batch']))
    .option('--slots <slots>', 'fid-v1 slots read as sparse features slot_<n>, e.g. 1..26 or 1,2,5..9', slotList)
    .option('--sparse <features>', 'named sparse features NAME:SLOT,… (fid-v2 Instance features, Example / ExampleBatch features)', sparseList)
    .option('--dense <features>', 'dense features NAME[:WIDTH],… (width default 1; ranges like dense_0..dense_12)', denseList)
    .option('--dense-group <group>', 'read several dense features as one input GROUP=NAME[:WIDTH],…, e.g. dense=dense_0..dense_12 (repeatable)', denseGroupArg)
    .option('--label-width <n>', 'label values per row (default 1; 0: none)', nonNegativeInt)
    .addOption(new Option('--fid-version <v>', 'v2: rewrite Instance fid-v1 ids as fid v2 (slot << 48), as Monolith does with fid-v2 features (default v1)').choices(['v1', 'v2']))
    .option('--line-id <fields>', 'LineId fields to keep (uid, req_time, item_id, …)', list);
}

type Flags = Record<string, unknown>;

const PARSE_FLAGS = ['slots', 'sparse', 'dense', 'denseGroup', 'labelWidth', 'fidVersion', 'lineId'] as const;

/** Whether any flag of the parse configuration (features, labels) was given. */
export const hasParseFlags = (o: Flags): boolean => PARSE_FLAGS.some((k) => o[k] !== undefined);

/** The parse configuration of the flags, each part falling back to `base` (features, labels, LineId, fid version). */
function parseConfigOf(o: Flags, base: RecordInput | undefined): { parse: ParseConfig; denseGroups?: DenseGroup[] } {
  const b = base?.parse;
  const sparseGiven = o.slots !== undefined || o.sparse !== undefined;
  const denseGiven = o.dense !== undefined || o.denseGroup !== undefined;
  const sparse: SparseFeatureSpec[] = sparseGiven
    ? [...((o.slots as number[] | undefined) ?? []).map((s) => ({ name: `slot_${s}`, slot: s })), ...((o.sparse as SparseFeatureSpec[] | undefined) ?? [])]
    : [...(b?.sparse ?? [])];
  let dense: DenseFeatureSpec[] = [...(b?.dense ?? [])];
  let denseGroups: DenseGroup[] | undefined = base?.denseGroups;
  if (denseGiven) {
    dense = [...((o.dense as DenseFeatureSpec[] | undefined) ?? [])];
    const groups = (o.denseGroup as { name: string; members: DenseFeatureSpec[] }[] | undefined) ?? [];
    for (const g of groups) for (const m of g.members) if (!dense.some((d) => d.name === m.name)) dense.push(m);
    denseGroups = groups.length ? groups.map((g) => ({ name: g.name, members: g.members.map((m) => m.name) })) : undefined;
  }
  if (sparse.length === 0 && dense.length === 0) throw new ConfigError('say which features to read: --slots, --sparse, --dense or --dense-group');
  const lineIdFields = (o.lineId as ParseConfig['lineIdFields'] | undefined) ?? b?.lineIdFields;
  const fidV1ToV2 = o.fidVersion !== undefined ? o.fidVersion === 'v2' : (b?.fidV1ToV2 ?? false);
  return {
    parse: {
      sparse,
      dense,
      labelWidth: (o.labelWidth as number | undefined) ?? b?.labelWidth ?? 1,
      ...(lineIdFields ? { lineIdFields } : {}),
      ...(fidV1ToV2 ? { fidV1ToV2: true } : {}),
    },
    ...(denseGroups ? { denseGroups } : {}),
  };
}

/**
 * The RecordInput the flags describe. With `stored` (the settings a model was
 * trained with) each flag overrides its part: --layout, --variant,
 * --slots / --sparse the sparse features, --dense / --dense-group the dense
 * ones, and so on. Without it, --layout and features are required.
 */
export function inputFromFlags(o: Flags, stored?: RecordInput): RecordInput {
  if (!stored && o.layout === undefined) throw new ConfigError(`--layout is required: how records are framed (${RECORD_FORMATS.join(', ')}); monolith-ts does not guess`);
  if (!stored && !hasParseFlags(o)) throw new ConfigError('say which features to read: --slots, --sparse, --dense or --dense-group');
  const base = stored ?? { format: o.layout as RecordFormat, variant: 'instance' as RecordVariant, parse: { sparse: [] } };
  return validateRecordInput({
    format: (o.layout as RecordFormat | undefined) ?? base.format,
    variant: (o.variant as RecordVariant | undefined) ?? base.variant,
    ...parseConfigOf(o, stored),
  });
}
