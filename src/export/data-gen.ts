import type protobuf from 'protobufjs';
import type Long from 'long';
import { idl, monolith, parser } from '../proto.js';
import { lookupType, propertyName } from '../io/schema-registry.js';
import { FID_V1_BITS, FID_V2_BITS, MASK_V1, MASK_V2, MAX_SLOT_V1, makeFidV2 } from '../io/fid.js';
import { toLong } from '../io/long.js';
import { ConfigError } from '../errors.js';
import { log, warnFirstN } from '../util/log.js';
import { Rng } from '../util/random.js';
import { FeatureMeta, FeatureSlots, type FeatureList } from './feature-meta.js';
import type { ParserArgs } from './parser-args.js';

/**
 * Synthetic Instance / Example / ExampleBatch data (Monolith's data_gen_utils).
 * Every function draws from `ctx.rng`, so a seed makes the output reproducible,
 * and takes the clock from `ctx.now` (seconds) for LineId.req_time.
 */
export interface GenContext {
  rng: Rng;
  /** Seconds since the epoch for req_time. Default: the wall clock. */
  now?: () => number;
  slots?: FeatureSlots;
  /** Candidate LineId.actions values; default 0..10. */
  actions?: number[];
}

export function genContext(seed?: number, opts: Omit<GenContext, 'rng'> = {}): GenContext {
  return { rng: new Rng(seed), ...opts };
}

type EFeature = monolith.io.proto.Feature.$Properties;
type IFeature = idl.matrix.proto.Feature.$Properties;
type LineId = idl.matrix.proto.LineId.$Properties;
type Example = monolith.io.proto.Example.$Properties;
type Instance = parser.proto.Instance.$Properties;
type ExampleBatch = monolith.io.proto.ExampleBatch.$Properties;

const MAX_SIZE = (1n << 63n) - 1n; // Python's sys.maxsize
const randomLow = (ctx: GenContext) => ctx.rng.bigint(1n, MAX_SIZE);
/** Python's `randint(sys.maxsize // 2, sys.maxsize)`. */
const randomBigHalf = (ctx: GenContext) => ctx.rng.bigint(MAX_SIZE / 2n, MAX_SIZE);

/** `size` random fid-v1 ids in `slot`; an out-of-range slot is logged and gives none (as Monolith). */
export function genFidsV1(ctx: GenContext, slot: number, size = 1): bigint[] {
  if (!(slot > 0 && slot <= MAX_SLOT_V1)) {
    warnFirstN('gen-fids-v1', 10, `slot ${slot} does not fit fid v1 (1..${MAX_SLOT_V1}); no fids generated`);
    return [];
  }
  return Array.from({ length: size }, () => (BigInt(slot) << BigInt(FID_V1_BITS)) | (randomLow(ctx) & MASK_V1));
}

/** `size` random fid-v2 ids in `slot`; a slot outside 1..65535 is a FidError. */
export function genFidsV2(ctx: GenContext, slot: number, size = 1): bigint[] {
  makeFidV2(slot, 0); // validates the slot
  return Array.from({ length: size }, () => (BigInt(slot) << BigInt(FID_V2_BITS)) | (randomLow(ctx) & MASK_V2));
}

const longs = (xs: bigint[]): Long[] => xs.map((x) => toLong(x));
const isSequenceFeature = (name: string) => name.includes('_recent') || name.includes('_cp');

/** Fills an Example feature (monolith.io.proto.Feature) for `meta`. */
export function fillExampleFeature(ctx: GenContext, feature: EFeature, meta: FeatureMeta, dropRate = 0): void {
  const { rng } = ctx;
  if (meta.isSparse) {
    const slot = meta.extra?.slot ?? meta.slot!;
    let fids: bigint[] = [];
    if (isSequenceFeature(meta.name) || meta.extra?.method === 'Combine' || meta.extra?.method === 'VectorTopString') {
      if (dropRate > 0 && rng.float() > dropRate) fids = genFidsV2(ctx, slot, rng.int(0, 2));
    } else if (slot !== 1 && slot !== 200) {
      if (rng.float() > dropRate) fids = genFidsV2(ctx, slot, 1);
    } else {
      fids = genFidsV2(ctx, slot, 1); // user_id and item_id are never dropped
    }
    feature.fidV2List = { value: longs(fids) };
    return;
  }
  const n = meta.shape;
  switch (meta.dtype) {
    case 'float64':
      feature.doubleList = { value: Array.from({ length: n }, () => rng.float()) };
      break;
    case 'float32':
      feature.floatList = { value: Array.from({ length: n }, () => rng.float()) };
      break;
    case 'int64':
      feature.int64List = { value: Array.from({ length: n }, () => toLong(randomBigHalf(ctx), false)) };
      break;
    default:
      log.warn(`${meta.name}: no values generated for dtype ${meta.dtype}`);
  }
}

/** Fills an Instance feature (idl.matrix.proto.Feature) for `meta`. */
export function fillInstanceFeature(ctx: GenContext, feature: IFeature, meta: FeatureMeta, dropRate = 0): void {
  const { rng } = ctx;
  feature.name = meta.name;
  if (meta.isSparse) {
    const slot = meta.extra?.slot ?? meta.slot!;
    let fids: bigint[];
    if (isSequenceFeature(meta.name) || meta.name.includes('-')) {
      fids = dropRate > 0 && rng.float() > dropRate ? genFidsV2(ctx, slot, rng.int(0, 2)) : [];
    } else {
      fids = genFidsV2(ctx, slot, 1);
    }
    feature.fid = longs(fids);
    return;
  }
  const n = meta.shape;
  if (meta.dtype === 'float32' || meta.dtype === 'float64') feature.floatValue = Array.from({ length: n }, () => rng.float());
  else if (meta.dtype === 'int64') feature.int64Value = Array.from({ length: n }, () => toLong(randomBigHalf(ctx), false));
  else log.warn(`${meta.name}: no values generated for dtype ${meta.dtype}`);
}

const lineIdType = (): protobuf.Type => lookupType('idl.matrix.proto.LineId');

function randomLineIdValue(ctx: GenContext, field: protobuf.Field): unknown {
  switch (field.type) {
    case 'float':
    case 'double':
      return ctx.rng.float();
    case 'bool':
      return false;
    case 'string':
      return 'hello world';
    case 'bytes':
      return Buffer.from('hello world');
    case 'int32':
    case 'uint32':
    case 'sint32':
    case 'fixed32':
    case 'sfixed32':
      return ctx.rng.int(0, 10);
    case 'int64':
    case 'uint64':
    case 'sint64':
    case 'fixed64':
    case 'sfixed64':
      return toLong(BigInt(ctx.rng.int(0, 10)), field.type.startsWith('u') || field.type === 'fixed64');
    default:
      return undefined;
  }
}

/**
 * Fills a LineId: uid (slot 1) and item_id (slot 200) as fids, req_time from the
 * clock with sample_rate 1, actions; any other named field by its .proto type
 * (repeated fields get `shape` values). Without `features`, the default set.
 */
export function fillLineId(ctx: GenContext, lineId: LineId, features?: FeatureMeta[], hashLen: 48 | 54 = 48): void {
  const mask = hashLen === 54 ? MASK_V1 : MASK_V2;
  const now = () => Math.floor(ctx.now ? ctx.now() : Date.now() / 1000);
  const uid = () => toLong((1n << BigInt(hashLen)) | (randomBigHalf(ctx) & mask));
  const itemId = () => toLong((200n << BigInt(hashLen)) | (randomBigHalf(ctx) & mask));
  const action = () => (ctx.actions?.length ? ctx.rng.choice(ctx.actions) : ctx.rng.int(0, 10));
  if (!features?.length) {
    lineId.uid = uid();
    lineId.itemId = itemId();
    lineId.reqTime = now();
    lineId.sampleRate = 1.0;
    lineId.actions = [action()];
    return;
  }
  const target = lineId as Record<string, unknown>;
  for (const meta of features) {
    const shape = Math.max(meta.shape, 1);
    switch (meta.name) {
      case 'uid':
        lineId.uid = uid();
        continue;
      case 'item_id':
        lineId.itemId = itemId();
        continue;
      case 'req_time':
        lineId.reqTime = now();
        lineId.sampleRate = 1.0;
        continue;
      case 'actions':
        lineId.actions = Array.from({ length: shape }, action);
        continue;
    }
    const field = lineIdType().fields[meta.name];
    if (!field) {
      warnFirstN(`line-id-${meta.name}`, 1, `LineId has no field "${meta.name}" in the public schema; not filled`);
      continue;
    }
    const prop = propertyName(field.name);
    if (field.repeated) target[prop] = Array.from({ length: shape }, () => randomLineIdValue(ctx, field));
    else target[prop] = randomLineIdValue(ctx, field);
  }
}

/** FeatureMetas of sparse features by name: slot from the feature list, else from the name. */
function sparseMetas(ctx: GenContext, names: string[], featureList?: FeatureList): Map<string, FeatureMeta> {
  if (names.length === 0 || new Set(names).size !== names.length) throw new ConfigError(`sparse features must be non-empty and distinct: ${names.join(',')}`);
  const slots = (ctx.slots ??= new FeatureSlots());
  const out = new Map<string, FeatureMeta>();
  for (const name of names) {
    const entry = featureList?.get(name);
    out.set(name, new FeatureMeta(name, { slot: entry?.slot ?? slots.slotOf(name), dtype: 'int64', extra: entry }));
  }
  return out;
}

function labels(ctx: GenContext, label: FeatureMeta | undefined): number[] {
  return Array.from({ length: label ? label.shape : 1 }, () => ctx.rng.int(0, 1));
}

export interface GenOptions {
  dense?: FeatureMeta[];
  extra?: FeatureMeta[];
  featureList?: FeatureList;
  dropRate?: number;
}

/** One Example with the named sparse features, dense features, a LineId and labels. */
export function genExample(ctx: GenContext, sparseFeatures: string[], opts: GenOptions = {}): Example {
  const metas = sparseMetas(ctx, sparseFeatures, opts.featureList);
  for (const m of opts.dense ?? []) metas.set(m.name, m);
  const label = metas.get('label');
  metas.delete('label');
  const example: Example = { namedFeature: [], lineId: {} };
  for (const [name, meta] of metas) {
    const feature: EFeature = {};
    fillExampleFeature(ctx, feature, meta, opts.dropRate ?? 0);
    example.namedFeature!.push({ name, feature, ...(meta.slot ? { id: meta.slot } : {}) });
  }
  fillLineId(ctx, example.lineId!, opts.extra);
  example.label = labels(ctx, label);
  return example;
}

/**
 * One Instance: fid-v1 features by slot (slots 1 and 200 get one fid, others 0–3),
 * fid-v2 features by name, dense features, a LineId and labels.
 */
export function genInstance(ctx: GenContext, opts: GenOptions & { fidv1Features?: number[]; fidv2Features?: string[] } = {}): Instance {
  const inst: Instance = { fid: [], feature: [], lineId: {} };
  if (opts.fidv1Features) {
    if (opts.fidv1Features.length === 0 || new Set(opts.fidv1Features).size !== opts.fidv1Features.length) {
      throw new ConfigError(`fid-v1 slots must be non-empty and distinct: ${opts.fidv1Features.join(',')}`);
    }
    for (const slot of opts.fidv1Features) {
      const size = slot === 1 || slot === 200 ? 1 : ctx.rng.int(0, 3);
      inst.fid!.push(...longs(genFidsV1(ctx, slot, size)));
    }
  }
  const metas = opts.fidv2Features?.length ? sparseMetas(ctx, opts.fidv2Features, opts.featureList) : new Map<string, FeatureMeta>();
  for (const m of opts.dense ?? []) metas.set(m.name, m);
  const label = metas.get('label');
  metas.delete('label');
  for (const meta of metas.values()) {
    const feature: IFeature = {};
    fillInstanceFeature(ctx, feature, meta, opts.dropRate ?? 0);
    inst.feature!.push(feature);
  }
  fillLineId(ctx, inst.lineId!, opts.extra);
  inst.label = labels(ctx, label);
  return inst;
}

/** One ExampleBatch of `batchSize` rows, with `__LINE_ID__` and `__LABEL__` lists. */
export function genExampleBatch(ctx: GenContext, sparseFeatures: string[], batchSize: number, opts: GenOptions = {}): ExampleBatch {
  if (!(batchSize > 0)) throw new ConfigError(`batchSize must be > 0, got ${batchSize}`);
  const metas = sparseMetas(ctx, sparseFeatures, opts.featureList);
  for (const m of opts.dense ?? []) metas.set(m.name, m);
  const label = metas.get('label');
  metas.delete('label');
  const batch: ExampleBatch = { batchSize, namedFeatureList: [] };
  for (const [name, meta] of metas) {
    const feature = Array.from({ length: batchSize }, () => {
      const f: EFeature = {};
      fillExampleFeature(ctx, f, meta, opts.dropRate ?? 0);
      return f;
    });
    batch.namedFeatureList!.push({ name, feature, ...(meta.slot ? { id: meta.slot } : {}) });
  }
  batch.namedFeatureList!.push({
    name: '__LINE_ID__',
    feature: Array.from({ length: batchSize }, () => {
      const lineId: LineId = {};
      fillLineId(ctx, lineId, opts.extra, 48);
      return { bytesList: { value: [idl.matrix.proto.LineId.encode(lineId).finish()] } };
    }),
  });
  batch.namedFeatureList!.push({
    name: '__LABEL__',
    feature: Array.from({ length: batchSize }, (_, i) => ({ floatList: { value: label ? labels(ctx, label) : [i % 2] } })),
  });
  return batch;
}

/** FeatureMetas for the dense and extra features of `args`. */
export function metasOf(args: ParserArgs): { dense?: FeatureMeta[]; extra?: FeatureMeta[] } {
  const dense = args.denseFeatures?.map((name, i) => {
    const shape = args.denseFeatureShapes![i]!;
    if (!(shape >= 1)) throw new ConfigError(`dense feature ${name}: shape must be >= 1, got ${shape}`);
    return new FeatureMeta(name, { shape, dtype: args.denseFeatureTypes![i], extra: args.featureList?.get(name) });
  });
  const extra = args.extraFeatures?.map((name, i) => new FeatureMeta(name, { shape: args.extraFeatureShapes![i]! }));
  return { dense, extra };
}

/** One serialized record of `args.variantType` (an ExampleBatch holds `args.batchSize` rows). */
export function genSerialized(ctx: GenContext, args: ParserArgs, metas = metasOf(args)): Uint8Array {
  const opts: GenOptions = { ...metas, featureList: args.featureList, dropRate: args.dropRate };
  switch (args.variantType) {
    case 'example':
      return monolith.io.proto.Example.encode(genExample(ctx, requireSparse(args), opts)).finish();
    case 'instance':
      return parser.proto.Instance.encode(genInstance(ctx, { ...opts, fidv1Features: args.fidv1Features, fidv2Features: args.fidv2Features })).finish();
    case 'example_batch':
      return monolith.io.proto.ExampleBatch.encode(genExampleBatch(ctx, requireSparse(args), args.batchSize, opts)).finish();
  }
}

function requireSparse(args: ParserArgs): string[] {
  if (!args.sparseFeatures?.length) throw new ConfigError(`variant ${args.variantType} needs sparse feature names`);
  return args.sparseFeatures;
}
