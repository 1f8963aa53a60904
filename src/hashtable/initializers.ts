import { ConfigError } from '../errors.js';
import type { monolith } from '../proto.js';
import { mixFid } from './fid-hash.js';

/** Monolith's InitializerConfig oneof plus `truncatedNormal`, which Monolith's Python side offers. */
export type InitializerConfig = monolith.hash_table.InitializerConfig.$Properties & {
  truncatedNormal?: { mean?: number; stddev?: number } | null;
};

/** Fills `dim` floats of a new row for id (lo, hi). */
export type Initializer = (out: Float32Array, at: number, lo: number, hi: number) => void;

/**
 * Random initializers are counter-based: the values of an id depend only on
 * (seed, id, element), never on insertion order or which worker thread made
 * the entry, so runs are reproducible with any number of threads.
 */
function idStream(seed: number, lo: number, hi: number): number {
  return mixFid(lo ^ seed, hi ^ Math.imul(seed, 0x27d4eb2d));
}
function uniform01(state: number, i: number): number {
  let h = (state + Math.imul(i + 1, 0x9e3779b9)) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

export function createInitializer(c: InitializerConfig | null | undefined, dim: number, seed: number, where = 'segment'): Initializer {
  if (!c || c.zeros) return (out, at) => out.fill(0, at, at + dim);
  if (c.ones) return (out, at) => out.fill(1, at, at + dim);
  if (c.constants) {
    const v = c.constants.constant ?? 0;
    return (out, at) => out.fill(v, at, at + dim);
  }
  if (c.randomUniform) {
    const lo = c.randomUniform.minval ?? -0.05;
    const span = (c.randomUniform.maxval ?? 0.05) - lo;
    // uniform01 inlined (this runs for every float of every new row); x * (span / 2^32) == (x / 2^32) * span exactly.
    const scale = span / 4294967296;
    return (out, at, idLo, idHi) => {
      const st = idStream(seed, idLo, idHi);
      for (let i = 0; i < dim; i++) {
        let h = (st + Math.imul(i + 1, 0x9e3779b9)) | 0;
        h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
        h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
        out[at + i] = lo + ((h ^ (h >>> 16)) >>> 0) * scale;
      }
    };
  }
  if (c.truncatedNormal) {
    const mean = c.truncatedNormal.mean ?? 0;
    const std = c.truncatedNormal.stddev ?? 1;
    return (out, at, idLo, idHi) => {
      const st = idStream(seed, idLo, idHi);
      let k = 0;
      for (let i = 0; i < dim; i++) {
        // Box-Muller, redrawn until within two standard deviations (TF's truncated_normal).
        let z: number;
        do {
          const u = 1 - uniform01(st, k++);
          const v = uniform01(st, k++);
          z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
        } while (Math.abs(z) > 2);
        out[at + i] = mean + std * z;
      }
    };
  }
  throw new ConfigError(`${where}: unsupported initializer ${JSON.stringify(c)}`);
}
