import { createHash } from 'node:crypto';
import { monolith } from '../proto.js';
import type { FeatureSlice } from './feature-slot.js';

export type OutConfigProps = monolith.io.proto.OutConfig.$Properties;
export type LayoutOutType = 'concat' | 'stack' | 'addn' | null;

/** Python's repr of a str: single quotes unless the text has ' and no ". */
export function pyRepr(v: string | number): string {
  if (typeof v === 'number') return String(v);
  const q = v.includes("'") && !v.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of v) {
    if (ch === '\\') out += '\\\\';
    else if (ch === q) out += `\\${q}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else out += ch;
  }
  return q + out + q;
}

/** Python's str() of one item of `features`: a group prints as a list, a (feature, dim) pair as a tuple. */
export type LayoutKey = string | number | { group: (string | number)[] } | { pair: [string | number, number] };
export function pyStr(k: LayoutKey): string {
  if (typeof k === 'string' || typeof k === 'number') return String(k);
  if ('group' in k) return `[${k.group.map(pyRepr).join(', ')}]`;
  return `(${pyRepr(k.pair[0])}, ${pyRepr(k.pair[1])})`;
}

/** Code-point order, as Python sorts str. */
function comparePy(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0)!);
  const y = Array.from(b, (c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/** Monolith's layout name: `${slice}_${md5(",".join(sorted(map(str, features))))}`. */
export function layoutName(sliceName: string, keys: LayoutKey[]): string {
  const joined = keys.map(pyStr).sort(comparePy).join(',');
  return `${sliceName}_${createHash('md5').update(joined, 'utf8').digest('hex')}`;
}

/** OutConfig of a layout: its slices and its output shapes with the batch dimension as -1. */
export function outConfig(outType: LayoutOutType, slices: [string, FeatureSlice][], shapes: (number | null)[][]): OutConfigProps {
  const T = monolith.io.proto.OutType;
  const type = outType === 'concat' ? T.CONCAT : outType === 'stack' ? T.STACK : outType === 'addn' ? T.ADDN : T.NONE;
  return {
    outType: type,
    sliceConfigs: slices.map(([featureName, s]) => ({ featureName, start: s.start, end: s.end })),
    shape: shapes.map((dims) => ({ dims: dims.map((d, i) => (i === 0 ? -1 : (d ?? -1))) })),
  };
}

export function encodeOutConfig(c: OutConfigProps): Uint8Array {
  return monolith.io.proto.OutConfig.encode(c).finish();
}
