import { InvalidArgumentError } from 'commander';
import { parseDType, type DType } from '../export/dtypes.js';

/** Parsers for commander options; a bad value names the option and the value. */
export const list = (v: string): string[] =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export function intArg(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`"${v}" is not an integer.`);
  return n;
}

export function floatArg(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`"${v}" is not a number.`);
  return n;
}

export const intList = (v: string): number[] => list(v).map(intArg);

export function dtypeList(v: string): DType[] {
  try {
    return list(v).map(parseDType);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}
