import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (tests run from dist/test/...). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** ../shared/fixtures next to the repository. */
export const FIXTURES = join(ROOT, '..', 'shared', 'fixtures');
export const MONOLITH_ASSETS = join(FIXTURES, 'monolith_assets');
export const HASH_TABLE_SHARDS = join(MONOLITH_ASSETS, 'ps_0', '1622716114', 'assets');
export const REAL_WARMUP = join(FIXTURES, 'real_warmup', 'DanielTsiang_traffic-sign-classifier', 'model', '1', 'assets.extra', 'tf_serving_warmup_requests');

export function tempDir(prefix = 'monolith-ts-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
