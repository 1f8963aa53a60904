// Prototype kernel for the hash-table core (bench/hashtable-wasm-kernel.ts measures it):
// the lookup of one shard's slice over the shard's index and rows in this memory.

/**
 * Looks up `n` keys, given as i32 triples [hash, lo, hi] at `keys`, in the
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
    const h = load<u32>(keys + <usize>k * 12);
    sink ^= load<i32>(index + <usize>(h >>> shift) * 12 + 8);
  }
  for (let k = 0; k < n; k++) {
    const p = keys + <usize>k * 12;
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
