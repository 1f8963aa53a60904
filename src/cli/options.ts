import { InvalidArgumentError, type Command } from 'commander';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDType, type DType } from '../export/dtypes.js';
import { ConfigError } from '../errors.js';

/** Parsers for commander options; a bad value names the option and the value (commander adds the flag). */
export const list = (v: string): string[] =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export function intArg(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n)) throw new InvalidArgumentError(`"${v}" is not an integer.`);
  return n;
}

/** An integer in [min, max]. */
export function intInRange(min: number, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v) => {
    const n = intArg(v);
    if (n < min || n > max) throw new InvalidArgumentError(max === Number.MAX_SAFE_INTEGER ? `${n} is below ${min}.` : `${n} is not in ${min}..${max}.`);
    return n;
  };
}

/** An integer ≥ 1. */
export const positiveInt = (v: string): number => {
  const n = intArg(v);
  if (n < 1) throw new InvalidArgumentError(`${n} is not a positive integer.`);
  return n;
};

/** An integer ≥ 0. */
export const nonNegativeInt = (v: string): number => {
  const n = intArg(v);
  if (n < 0) throw new InvalidArgumentError(`${n} is negative.`);
  return n;
};

/** A TCP port, 0 (any free port) to 65535. */
export const portArg = intInRange(0, 65535);

/** A number in the open interval (0, 1). */
export function fractionArg(v: string): number {
  const n = Number(v);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError(`"${v}" is not a number between 0 and 1.`);
  return n;
}

export function floatArg(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`"${v}" is not a number.`);
  return n;
}

/** A probability in [0, 1]. */
export function probabilityArg(v: string): number {
  const n = floatArg(v);
  if (n < 0 || n > 1) throw new InvalidArgumentError(`${n} is not in 0..1.`);
  return n;
}

/** A JSON object. */
export function jsonObjectArg(v: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch (err) {
    throw new InvalidArgumentError(`not JSON: ${(err as Error).message}.`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new InvalidArgumentError('not a JSON object.');
  return parsed as Record<string, unknown>;
}

/** A file that exists ('-' passes: stdin). */
export function existingFile(v: string): string {
  if (v === '-') return v;
  const st = statSync(v, { throwIfNoEntry: false });
  if (!st) throw new InvalidArgumentError('no such file.');
  if (st.isDirectory()) throw new InvalidArgumentError('is a directory, not a file.');
  return v;
}

/** A directory that exists. */
export function existingDir(v: string): string {
  const st = statSync(v, { throwIfNoEntry: false });
  if (!st) throw new InvalidArgumentError('no such directory.');
  if (!st.isDirectory()) throw new InvalidArgumentError('is not a directory.');
  return v;
}

export const positiveIntList = (v: string): number[] => list(v).map(positiveInt);
export const intList = (v: string): number[] => list(v).map(intArg);

export function dtypeList(v: string): DType[] {
  try {
    return list(v).map(parseDType);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** Adds `--mkdir` (create missing parent directories of output paths). */
export function withMkdir(cmd: Command): Command {
  return cmd.option('--mkdir', 'create missing parent directories of the output', false);
}

/**
 * Checks an output file path before any work: not a directory, and its parent
 * exists (or is created when `mkdir`). Errors name the flag.
 */
export function checkOutputFile(path: string, flag: string, mkdir = false): void {
  const st = statSync(path, { throwIfNoEntry: false });
  if (st?.isDirectory()) throw new ConfigError(`${flag} ${path} is a directory; give a file name`);
  const parent = dirname(resolve(path));
  const pst = statSync(parent, { throwIfNoEntry: false });
  if (pst && !pst.isDirectory()) throw new ConfigError(`${flag} ${path}: ${parent} is not a directory`);
  if (!pst) {
    if (!mkdir) throw new ConfigError(`${flag} ${path}: directory ${parent} does not exist (pass --mkdir to create it)`);
    mkdirSync(parent, { recursive: true });
  }
}

/** Checks an output directory: not a file; its parent exists unless `mkdir`. */
export function checkOutputDir(path: string, flag: string, mkdir = false): void {
  const st = statSync(path, { throwIfNoEntry: false });
  if (st && !st.isDirectory()) throw new ConfigError(`${flag} ${path} is a file, not a directory`);
  if (st) return;
  const parent = dirname(resolve(path));
  if (!statSync(parent, { throwIfNoEntry: false })?.isDirectory() && !mkdir) throw new ConfigError(`${flag} ${path}: directory ${parent} does not exist (pass --mkdir to create it)`);
}

/** The dense / LineId feature options `warmup gen` and `datagen` share. */
export function withFeatureOptions(cmd: Command, dropRateDefault: number): Command {
  return cmd
    .option('--dense-features <names>', 'dense feature names', list)
    .option('--dense-feature-shapes <shapes>', 'values per dense feature', positiveIntList)
    .option('--dense-feature-types <types>', 'dtype per dense feature (float, double, int64, ...)', dtypeList)
    .option('--extra-features <names>', 'LineId fields to fill', list)
    .option('--extra-feature-shapes <shapes>', 'values per LineId field', positiveIntList)
    .option('--drop-rate <p>', 'probability a sparse feature is left empty', probabilityArg, dropRateDefault)
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
