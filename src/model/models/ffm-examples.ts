import type { Batch, SparseColumn } from '../../batch/batch.js';
import { FormatError } from '../../errors.js';
import { tensorflow } from '../../proto.js';
import { Rng } from '../../util/random.js';

export const FFM_NUM_SLOTS = 6;
export const FFM_VOCAB_SIZES: readonly number[] = [5, 5, 5, 5, 5, 5];
export const FFM_NUM_EXAMPLES = 64;

/** Monolith's slot_to_key. */
export const slotToKey = (slot: number): string => `feature_${slot}`;
/** FID slot of FFM slot `i` (fid v2 slots start at 1). */
export const ffmFidSlot = (i: number): number => i + 1;

/**
 * Monolith's generate_ffm_example: a serialized tf.Example with a float
 * `label` and, per slot i, 1..length int64 ids drawn from
 * [max_vocab·i, max_vocab·i + vocab_i). Monolith draws the label with
 * `randint(0, 1)`, which is always 0; here it is 0 or 1.
 */
export function generateFfmExample(rng: Rng, vocabSizes: readonly number[] = FFM_VOCAB_SIZES, length = 5): Uint8Array {
  const maxVocab = Math.max(...vocabSizes);
  const feature: Record<string, tensorflow.Feature.$Properties> = { label: { floatList: { value: [rng.int(0, 1)] } } };
  vocabSizes.forEach((vocab, i) => {
    const n = rng.int(1, length);
    const ids: number[] = [];
    for (let k = 0; k < n; k++) ids.push(rng.int(maxVocab * i, maxVocab * i + vocab - 1));
    feature[slotToKey(i)] = { int64List: { value: ids } };
  });
  return tensorflow.Example.encode({ features: { feature } }).finish();
}

/** Monolith's `_parse_example` into a Batch: `label`, and each slot's ids as fids `(i + 1) << 48 | id`. */
export function parseFfmExamples(examples: readonly Uint8Array[], numSlots = FFM_NUM_SLOTS): Batch {
  const rows = examples.length;
  const labels = new Float32Array(rows);
  const perSlot: number[][] = Array.from({ length: numSlots }, () => []);
  const splits = Array.from({ length: numSlots }, () => new Int32Array(rows + 1));
  examples.forEach((bytes, r) => {
    let ex: tensorflow.Example;
    try {
      ex = tensorflow.Example.decode(bytes);
    } catch (err) {
      throw new FormatError(`example ${r}: not a tf.Example (${(err as Error).message})`, { field: 'instances' }, { cause: err });
    }
    const f = ex.features?.feature ?? {};
    const label = f['label']?.floatList?.value;
    if (!label || label.length !== 1) throw new FormatError(`example ${r}: needs exactly one float label`, { field: 'label' });
    labels[r] = label[0]!;
    for (let i = 0; i < numSlots; i++) {
      const ids = f[slotToKey(i)]?.int64List?.value ?? [];
      for (const id of ids) {
        const v = typeof id === 'number' ? id : id.toNumber();
        if (v < 0 || v >= 2 ** 32) throw new FormatError(`example ${r}: id ${v} outside 0..2^32-1`, { field: slotToKey(i), slot: ffmFidSlot(i) });
        perSlot[i]!.push(v);
      }
      splits[i]![r + 1] = perSlot[i]!.length;
    }
  });
  const sparse: SparseColumn[] = perSlot.map((ids, i) => {
    const fids = new Uint32Array(ids.length * 2);
    ids.forEach((id, k) => {
      fids[2 * k] = id;
      fids[2 * k + 1] = ffmFidSlot(i) << 16;
    });
    return { name: slotToKey(i), slot: ffmFidSlot(i), fids, rowSplits: splits[i]! };
  });
  return { rows, sparse, dense: [], labels, labelWidth: 1, lineId: [] };
}

export interface FfmInputOptions {
  seed?: number;
  numExamples?: number;
  batchSize: number;
  /** Passes over the examples; default unlimited (Monolith's `repeat()`). */
  epochs?: number;
}

/** Monolith's TestFFMModel input_fn: fixed seeded examples, batched with the remainder dropped, repeated. */
export function* ffmBatches(opts: FfmInputOptions): Generator<Batch> {
  const rng = new Rng(opts.seed ?? 0);
  const examples = Array.from({ length: opts.numExamples ?? FFM_NUM_EXAMPLES }, () => generateFfmExample(rng));
  const batches: Batch[] = [];
  for (let at = 0; at + opts.batchSize <= examples.length; at += opts.batchSize) batches.push(parseFfmExamples(examples.slice(at, at + opts.batchSize)));
  for (let e = 0; opts.epochs === undefined || e < opts.epochs; e++) {
    if (batches.length === 0) return;
    yield* batches;
  }
}
