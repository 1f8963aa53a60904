import { InvalidArgumentError, type Command } from 'commander';
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

export function positiveIntArg(v: string): number {
  const n = intArg(v);
  if (n < 1) throw new InvalidArgumentError(`"${v}" is not an integer >= 1.`);
  return n;
}

export function nonNegativeIntArg(v: string): number {
  const n = intArg(v);
  if (n < 0) throw new InvalidArgumentError(`"${v}" is not an integer >= 0.`);
  return n;
}

/** A number in the open interval (0, 1). */
export function fractionArg(v: string): number {
  const n = Number(v);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError(`"${v}" is not a number between 0 and 1.`);
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

/** The dense / LineId feature options `warmup gen` and `datagen` share. */
export function withFeatureOptions(cmd: Command, dropRateDefault: number): Command {
  return cmd
    .option('--dense-features <names>', 'dense feature names', list)
    .option('--dense-feature-shapes <shapes>', 'values per dense feature', intList)
    .option('--dense-feature-types <types>', 'dtype per dense feature (float, double, int64, ...)', dtypeList)
    .option('--extra-features <names>', 'LineId fields to fill', list)
    .option('--extra-feature-shapes <shapes>', 'values per LineId field', intList)
    .option('--drop-rate <p>', 'probability a sparse feature is left empty', floatArg, dropRateDefault)
    .option('--seed <n>', 'random seed', intArg);
}

/** The ParserArgs fields of those options. */
export function featureArgs(o: Record<string, unknown>) {
  return {
    denseFeatures: o.denseFeatures as string[] | undefined,
    denseFeatureShapes: o.denseFeatureShapes as number[] | undefined,
    denseFeatureTypes: o.denseFeatureTypes as DType[] | undefined,
    extraFeatures: o.extraFeatures as string[] | undefined,
    extraFeatureShapes: o.extraFeatureShapes as number[] | undefined,
    dropRate: o.dropRate as number,
  };
}
