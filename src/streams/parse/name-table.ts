/**
 * Looks feature names up straight from their UTF-8 bytes in a wire buffer, so
 * the hot path never builds a JS string for a name: FNV-1a over the bytes into
 * an open-addressed table, then a byte comparison.
 */
export class NameTable {
  private readonly mask: number;
  private readonly slots: Int32Array; // index into entries, -1 empty
  private readonly keys: Uint8Array[] = [];
  private readonly values: number[] = [];

  constructor(entries: Iterable<[string, number]>) {
    const list = [...entries];
    let size = 16;
    while (size < list.length * 2) size <<= 1;
    this.mask = size - 1;
    this.slots = new Int32Array(size).fill(-1);
    for (const [name, value] of list) {
      const key = Buffer.from(name, 'utf8');
      let i = hashBytes(key, 0, key.length) & this.mask;
      while (this.slots[i] !== -1) i = (i + 1) & this.mask;
      this.slots[i] = this.keys.length;
      this.keys.push(key);
      this.values.push(value);
    }
  }

  /** The value for the name in `buf[start, end)`, or -1. */
  lookup(buf: Uint8Array, start: number, end: number): number {
    const len = end - start;
    let i = hashBytes(buf, start, end) & this.mask;
    for (;;) {
      const e = this.slots[i]!;
      if (e === -1) return -1;
      const key = this.keys[e]!;
      if (key.length === len) {
        let k = 0;
        while (k < len && key[k] === buf[start + k]) k++;
        if (k === len) return this.values[e]!;
      }
      i = (i + 1) & this.mask;
    }
  }
}

function hashBytes(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h >>> 0;
}
