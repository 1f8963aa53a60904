// Prototype kernels for a WebAssembly hash-table core (bench/hashtable-wasm-kernel.ts and
// bench/hashtable-wasm-apply.ts measure them; test/hashtable/wasm-table-kernels.test.ts checks them):
// lookup and Adagrad apply of one shard's slice over the shard's index and rows in this memory, plus
// the batch layout (partition by shard) and the gather / scatter between a batch and its shards.

/**
 * Looks up `n` keys, given as i32 quads [hash, lo, hi, input index] at `keys`, in the
 * open-addressing index at `index` (12-byte slots [lo, hi, val], 2^log2 of
 * them, home slot = top log2 bits of the hash, val = row + 1 for an entry)
 * and copies each key's embedding (`dimBytes` from the start of its row of
 * `strideBytes` at `rows`) to `out` in key order, zeros for a missing key.
 * Writes each key's row (or -1) to the i32s at `rowsOut`. Same passes as the
 * TypeScript core: touch the home slots, probe, touch the rows, copy.
 * Returns a value that depends on the touched words (keeps the touches alive).
 */
export function lookupRows(keys: usize, n: i32, index: usize, log2: i32, rows: usize, strideBytes: i32, dimBytes: i32, out: usize, rowsOut: usize): i32 {
  const shift = <u32>(32 - log2);
  const mask = (<u32>1 << <u32>log2) - 1;
  let sink: i32 = 0;
  for (let k = 0; k < n; k++) {
    const h = load<u32>(keys + (<usize>k << 4));
    sink ^= load<i32>(index + <usize>(h >>> shift) * 12 + 8);
  }
  for (let k = 0; k < n; k++) {
    const p = keys + (<usize>k << 4);
    const h = load<u32>(p);
    const lo = load<i32>(p, 4);
    const hi = load<i32>(p, 8);
    let s = h >>> shift;
    let row: i32 = -1;
    for (;;) {
      const b = index + <usize>s * 12;
      const v = load<i32>(b, 8);
      if (v == 0) break;
      if (load<i32>(b) == lo && load<i32>(b, 4) == hi) {
        row = v > 0 ? v - 1 : -1;
        break;
      }
      s = (s + 1) & mask;
    }
    store<i32>(rowsOut + <usize>k * 4, row);
  }
  const lastOff = <usize>(dimBytes - 4);
  for (let k = 0; k < n; k++) {
    const r = load<i32>(rowsOut + <usize>k * 4);
    if (r >= 0) {
      const a = rows + <usize>r * <usize>strideBytes;
      sink ^= load<i32>(a) ^ load<i32>(a + lastOff);
    }
  }
  const vecBytes = dimBytes & ~15;
  for (let k = 0; k < n; k++) {
    const r = load<i32>(rowsOut + <usize>k * 4);
    const o = out + <usize>k * <usize>dimBytes;
    if (r < 0) {
      memory.fill(o, 0, <usize>dimBytes);
      continue;
    }
    const a = rows + <usize>r * <usize>strideBytes;
    let j = 0;
    for (; j < vecBytes; j += 16) v128.store(o + <usize>j, v128.load(a + <usize>j));
    for (; j < dimBytes; j += 4) store<i32>(o + <usize>j, load<i32>(a + <usize>j));
  }
  return sink;
}

/** The FID hash of src/hashtable/fid-hash.ts (mixFid), bit for bit. */
// @ts-ignore: decorator
@inline function mixFid(lo: u32, hi: u32): u32 {
  let h = ((hi ^ 0x9e3779b9) * 0x85ebca6b) ^ lo;
  h = (h ^ (h >>> 16)) * 0x7feb352d;
  h = (h ^ (h >>> 15)) * 0x846ca68b;
  return h ^ (h >>> 16);
}

/** shardOfHash of src/hashtable/fid-hash.ts, bit for bit. */
// @ts-ignore: decorator
@inline function shardOfHash(h: u32, n: u32): u32 {
  if (n == 1) return 0;
  const g = (h ^ (h >>> 13)) * 0x2c1b3c6d;
  return <u32>((<u64>g * <u64>n) >>> 32);
}

/**
 * Lays out a batch of `n` ids (u32 word pairs [lo, hi] at `ids`) by shard:
 * quads [hash, lo, hi, input index] at `keys`, shard s's at quads
 * starts[s] .. starts[s + 1] (`nShards + 1` i32s at `starts`), each shard's
 * keys in input order (counting sort). `fill` is nShards i32s of scratch.
 */
export function partitionKeys(ids: usize, n: i32, nShards: i32, keys: usize, starts: usize, fill: usize): void {
  const ns = <u32>nShards;
  memory.fill(starts, 0, <usize>(nShards + 1) << 2);
  for (let i = 0; i < n; i++) {
    const p = ids + (<usize>i << 3);
    const s = shardOfHash(mixFid(load<u32>(p), load<u32>(p, 4)), ns);
    const a = starts + ((<usize>s + 1) << 2);
    store<i32>(a, load<i32>(a) + 1);
  }
  for (let s = 0; s < nShards; s++) {
    const a = starts + (<usize>s << 2);
    const at = load<i32>(a);
    store<i32>(a + 4, load<i32>(a + 4) + at);
    store<i32>(fill + (<usize>s << 2), at);
  }
  for (let i = 0; i < n; i++) {
    const p = ids + (<usize>i << 3);
    const lo = load<u32>(p);
    const hi = load<u32>(p, 4);
    const h = mixFid(lo, hi);
    const f = fill + (<usize>shardOfHash(h, ns) << 2);
    const at = load<i32>(f);
    store<i32>(f, at + 1);
    const q = keys + (<usize>at << 4);
    store<u32>(q, h);
    store<u32>(q, lo, 4);
    store<u32>(q, hi, 8);
    store<i32>(q, i, 12);
  }
}

/** Copies row k of `src` (`dimBytes` each, in key order) to row keys[k].index of `out`, for k < n. */
export function scatterRows(src: usize, keys: usize, n: i32, dimBytes: i32, out: usize): void {
  const vecBytes = dimBytes & ~15;
  for (let k = 0; k < n; k++) {
    const i = load<i32>(keys + (<usize>k << 4), 12);
    const a = src + <usize>k * <usize>dimBytes;
    const o = out + <usize>i * <usize>dimBytes;
    let j = 0;
    for (; j < vecBytes; j += 16) v128.store(o + <usize>j, v128.load(a + <usize>j));
    for (; j < dimBytes; j += 4) store<i32>(o + <usize>j, load<i32>(a + <usize>j));
  }
}

/** Copies row keys[k].index of `src` (`dimBytes` each) to row k of `out`, for k < n: the inverse of scatterRows. */
export function gatherRows(src: usize, keys: usize, n: i32, dimBytes: i32, out: usize): void {
  const vecBytes = dimBytes & ~15;
  for (let k = 0; k < n; k++) {
    const i = load<i32>(keys + (<usize>k << 4), 12);
    const a = src + <usize>i * <usize>dimBytes;
    const o = out + <usize>k * <usize>dimBytes;
    let j = 0;
    for (; j < vecBytes; j += 16) v128.store(o + <usize>j, v128.load(a + <usize>j));
    for (; j < dimBytes; j += 4) store<i32>(o + <usize>j, load<i32>(a + <usize>j));
  }
}

/**
 * Adagrad apply of one shard's slice, as the TypeScript core does it (same
 * float64 arithmetic, so the same bits): `n` keys (quads at `keys`) whose
 * gradients (`dim` floats each) are at `grads` in key order. Every key must
 * be an entry (a missing key is skipped). Gradients of a repeated row are
 * summed in float32 in key order, then each unique row gets
 * acc += g*g; w -= lr * g / sqrt(acc) (float64, stored as float32), with
 * the embedding at the row's start and the accumulator `accBytes` into it,
 * and its update time (u32 at `tsBytes`) set to `ts`. Scratch: `dedup`
 * (3 * 2^dedupLog2 i32s, zeroed by the caller once; `epoch` new per call),
 * `uniq` (n i32 rows), `gsum` (n * dim floats); the touched words' xor goes
 * to the i32 at `sinkAt`. Returns the number of unique rows.
 */
export function applyAdagrad(keys: usize, n: i32, index: usize, log2: i32, rows: usize, strideBytes: i32, dim: i32, accBytes: i32, tsBytes: i32, ts: u32, grads: usize, lr: f64, dedup: usize, dedupLog2: i32, epoch: i32, uniq: usize, gsum: usize, sinkAt: usize): i32 {
  const shift = <u32>(32 - log2);
  const mask = (<u32>1 << <u32>log2) - 1;
  const dShift = <u32>(32 - dedupLog2);
  const dMask = (<u32>1 << <u32>dedupLog2) - 1;
  const dimBytes = <usize>dim << 2;
  let sink: i32 = 0;
  for (let k = 0; k < n; k++) sink ^= load<i32>(index + <usize>(load<u32>(keys + (<usize>k << 4)) >>> shift) * 12 + 8);
  let count = 0;
  for (let k = 0; k < n; k++) {
    const p = keys + (<usize>k << 4);
    const h = load<u32>(p);
    const lo = load<i32>(p, 4);
    const hi = load<i32>(p, 8);
    let s = h >>> shift;
    let row: i32 = -1;
    for (;;) {
      const b = index + <usize>s * 12;
      const v = load<i32>(b, 8);
      if (v == 0) break;
      if (load<i32>(b) == lo && load<i32>(b, 4) == hi) {
        row = v > 0 ? v - 1 : -1;
        break;
      }
      s = (s + 1) & mask;
    }
    if (row < 0) continue;
    const g = grads + <usize>k * dimBytes;
    let ds = (<u32>row * 0x9e3779b1) >>> dShift;
    for (;;) {
      const d = dedup + <usize>ds * 12;
      if (load<i32>(d) != epoch) {
        store<i32>(d, epoch);
        store<i32>(d, row, 4);
        store<i32>(d, count, 8);
        store<i32>(uniq + (<usize>count << 2), row);
        memory.copy(gsum + <usize>count * dimBytes, g, dimBytes);
        count++;
        break;
      }
      if (load<i32>(d, 4) == row) {
        const a = gsum + <usize>load<i32>(d, 8) * dimBytes;
        let j: usize = 0;
        for (; j + 16 <= dimBytes; j += 16) v128.store(a + j, f32x4.add(v128.load(a + j), v128.load(g + j)));
        for (; j < dimBytes; j += 4) store<f32>(a + j, load<f32>(a + j) + load<f32>(g + j));
        break;
      }
      ds = (ds + 1) & dMask;
    }
  }
  for (let u = 0; u < count; u++) {
    const a = rows + <usize>load<i32>(uniq + (<usize>u << 2)) * <usize>strideBytes;
    sink ^= load<i32>(a) ^ load<i32>(a + <usize>accBytes) ^ load<i32>(a + <usize>strideBytes - 4);
  }
  const vlr = f64x2.splat(lr);
  for (let u = 0; u < count; u++) {
    const w = rows + <usize>load<i32>(uniq + (<usize>u << 2)) * <usize>strideBytes;
    const acc = w + <usize>accBytes;
    const g = gsum + <usize>u * dimBytes;
    let j: usize = 0;
    for (; j + 8 <= dimBytes; j += 8) {
      const g2 = f64x2.promote_low_f32x4(v128.load64_zero(g + j));
      const nrm = f64x2.add(f64x2.promote_low_f32x4(v128.load64_zero(acc + j)), f64x2.mul(g2, g2));
      v128.store64_lane(acc + j, f32x4.demote_f64x2_zero(nrm), 0);
      const step = f64x2.div(f64x2.mul(vlr, g2), f64x2.sqrt(nrm));
      const w2 = f64x2.sub(f64x2.promote_low_f32x4(v128.load64_zero(w + j)), step);
      v128.store64_lane(w + j, f32x4.demote_f64x2_zero(w2), 0);
    }
    for (; j < dimBytes; j += 4) {
      const gi = <f64>load<f32>(g + j);
      const nrm = <f64>load<f32>(acc + j) + gi * gi;
      store<f32>(acc + j, <f32>nrm);
      store<f32>(w + j, <f32>(<f64>load<f32>(w + j) - (lr * gi) / Math.sqrt(nrm)));
    }
    store<u32>(w + <usize>tsBytes, ts);
  }
  store<i32>(sinkAt, sink);
  return count;
}
