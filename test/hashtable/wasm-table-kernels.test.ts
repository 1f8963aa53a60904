import test from 'ava';
import { run as runApply } from '../../bench/hashtable-wasm-apply.js';
import { run } from '../../bench/hashtable-wasm-kernel.js';

// The prototype lookup kernel behind bench/hashtable-wasm-kernel.ts: its run checks, batch by batch,
// that the kernel's lookups are byte-identical to EmbeddingHashTable.lookupOnly (and throws if not).
for (const dim of [8, 16, 64]) {
  test(`wasm lookup kernel (dim ${dim}): same bytes as the TypeScript core over a 16-shard table`, (t) => {
    const row = run(2e4, dim, 4, 1, undefined);
    t.regex(row, new RegExp(`^\\| 2e\\+4 \\| ${dim} \\| n\\/a \\|`));
  });
}

// The Adagrad apply kernel behind bench/hashtable-wasm-apply.ts: its run checks after every repetition that both
// copies of the table (TypeScript core, wasm kernel) hold the same bytes: embeddings, accumulators, update times.
for (const dim of [8, 15, 64]) {
  test(`wasm Adagrad apply kernel (dim ${dim}): same bytes as the TypeScript core's applyGradients`, (t) => {
    const row = runApply(2e4, dim, 4, 2, undefined);
    t.regex(row, new RegExp(`^\\| 2e\\+4 \\| ${dim} \\| n\\/a \\|`));
  });
}
