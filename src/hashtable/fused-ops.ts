import { HashTableError } from './errors.js';
import type { EmbeddingHashTable } from './embedding-hash-table.js';
import { idCount, toIdWords, type IdsInput } from './id-batch.js';

/**
 * Fused ops over an ordered list of tables, as Monolith's fused lookup /
 * optimize: `fusedSlotSize[s * T + t]` ids of table t go to (or come from)
 * shard s, and the ids are laid out in that order.
 */
export interface FusedLookupResult {
  /** Embeddings of every id, flat, in the ids' order. */
  embeddings: Float32Array;
  /** Floats of embeddings per shard. */
  recvSplits: Int32Array;
  /** Prefix sums of fusedSlotSize (length numShards * T + 1). */
  idOffsets: Int32Array;
  /** Prefix sums of fusedSlotSize * dim (length numShards * T + 1). */
  embOffsets: Int32Array;
}

function offsets(tables: readonly EmbeddingHashTable[], sizes: ArrayLike<number>, numShards: number, nIds: number) {
  const T = tables.length;
  if (sizes.length !== T * numShards) throw new HashTableError(`fused op: fused_slot_size has ${sizes.length} entries, expected ${T} tables x ${numShards} shards`);
  const idOffsets = new Int32Array(sizes.length + 1);
  const embOffsets = new Int32Array(sizes.length + 1);
  for (let k = 0; k < sizes.length; k++) {
    idOffsets[k + 1] = idOffsets[k]! + sizes[k]!;
    embOffsets[k + 1] = embOffsets[k]! + sizes[k]! * tables[k % T]!.dim;
  }
  if (idOffsets[sizes.length] !== nIds) throw new HashTableError(`fused op: fused_slot_size sums to ${idOffsets[sizes.length]}, but ${nIds} ids were given`);
  return { idOffsets, embOffsets };
}

export function fusedLookup(tables: readonly EmbeddingHashTable[], ids: IdsInput, fusedSlotSize: ArrayLike<number>, numShards: number): FusedLookupResult {
  const w = toIdWords(ids);
  const T = tables.length;
  const { idOffsets, embOffsets } = offsets(tables, fusedSlotSize, numShards, idCount(w));
  const embeddings = new Float32Array(embOffsets[embOffsets.length - 1]!);
  const recvSplits = new Int32Array(numShards);
  for (let k = 0; k < fusedSlotSize.length; k++) {
    if (fusedSlotSize[k] === 0) continue;
    const part = w.subarray(2 * idOffsets[k]!, 2 * idOffsets[k + 1]!);
    tables[k % T]!.lookup(part, embeddings.subarray(embOffsets[k]!, embOffsets[k + 1]!));
  }
  for (let s = 0; s < numShards; s++) recvSplits[s] = embOffsets[(s + 1) * T]! - embOffsets[s * T]!;
  return { embeddings, recvSplits, idOffsets, embOffsets };
}

/** Options of a fused apply: ApplyGradientsOptions with `learningRates` flattened over the tables and their segments. */
export interface FusedApplyOptions {
  globalStep?: number;
  learningRates?: ArrayLike<number>;
  regularizationScale?: number;
}

/**
 * Applies `grads` (laid out like fusedLookup's embeddings). All ids of a table
 * are gathered across shards and applied in one call, so a repeated id is
 * summed and updated once. `learningRates`, when given, is flattened over
 * tables and their segments.
 */
export function fusedApplyGradients(
  tables: readonly EmbeddingHashTable[],
  ids: IdsInput,
  fusedSlotSize: ArrayLike<number>,
  grads: Float32Array,
  numShards: number,
  opts: FusedApplyOptions = {},
): void {
  const w = toIdWords(ids);
  const T = tables.length;
  const { idOffsets, embOffsets } = offsets(tables, fusedSlotSize, numShards, idCount(w));
  if (grads.length !== embOffsets[embOffsets.length - 1]) throw new HashTableError(`fused apply: ${grads.length} gradient floats for ${embOffsets[embOffsets.length - 1]} embedding floats`);
  let lrAt = 0;
  for (let t = 0; t < T; t++) {
    const table = tables[t]!;
    let n = 0;
    for (let s = 0; s < numShards; s++) n += fusedSlotSize[s * T + t]!;
    const segs = table.layout.segments.length;
    const lrs = opts.learningRates ? Array.from({ length: segs }, (_, j) => opts.learningRates![lrAt + j]!) : undefined;
    lrAt += segs;
    if (n === 0) continue;
    const tid = new Uint32Array(2 * n);
    const tg = new Float32Array(n * table.dim);
    let at = 0;
    for (let s = 0; s < numShards; s++) {
      const k = s * T + t;
      const m = fusedSlotSize[k]!;
      tid.set(w.subarray(2 * idOffsets[k]!, 2 * idOffsets[k + 1]!), 2 * at);
      tg.set(grads.subarray(embOffsets[k]!, embOffsets[k + 1]!), at * table.dim);
      at += m;
    }
    table.applyGradients(tid, tg, { globalStep: opts.globalStep, learningRates: lrs, regularizationScale: opts.regularizationScale });
  }
}
