import test from 'ava';
import { run } from '../../bench/hashtable-wasm-kernel.js';

// The prototype kernel behind bench/hashtable-wasm-kernel.ts: its run checks, batch by batch,
// that the kernel's lookups are byte-identical to EmbeddingHashTable.lookupOnly (and throws if not).
for (const dim of [8, 16, 64]) {
  test(`wasm lookup kernel (dim ${dim}): same bytes as the TypeScript core over a 16-shard table`, (t) => {
    const row = run(2e4, dim, 4, 1, undefined);
    t.regex(row, new RegExp(`^\\| 2e\\+4 \\| ${dim} \\| n\\/a \\|`));
  });
}
