import { NameTable } from './name-table.js';
import { INSTANCE_WEIGHT, LABEL_FEATURE, LABEL_LIST, LINE_ID_LIST, type ResolvedParseConfig } from './parse-config.js';

/**
 * Where a named feature (or ExampleBatch list) goes. Sparse columns are
 * `0..`, dense columns `DENSE + i`, and the reserved names have their own codes.
 */
export const DENSE = 1 << 20;
export const T_LABEL_LIST = (1 << 24) + 1;
export const T_LINE_ID_LIST = (1 << 24) + 2;
export const T_WEIGHT = (1 << 24) + 3;
export const T_LABEL_FEATURE = (1 << 24) + 4;
export const NO_TARGET = -1;

export function targetEntries(config: ResolvedParseConfig): [string, number][] {
  return [
    ...config.sparse.map((s, i): [string, number] => [s.name, i]),
    ...config.dense.map((d, i): [string, number] => [d.name, DENSE + i]),
    [LABEL_LIST, T_LABEL_LIST],
    [LINE_ID_LIST, T_LINE_ID_LIST],
    [INSTANCE_WEIGHT, T_WEIGHT],
    [LABEL_FEATURE, T_LABEL_FEATURE],
  ];
}

export const targetTable = (config: ResolvedParseConfig): NameTable => new NameTable(targetEntries(config));
export const targetMap = (config: ResolvedParseConfig): Map<string, number> => new Map(targetEntries(config));

/** monolith.io.proto.Feature oneof members by field number, for messages. */
export const EXAMPLE_FEATURE_KINDS: Record<number, string> = {
  1: 'fid_v1_list',
  2: 'fid_v2_list',
  3: 'float_list',
  4: 'double_list',
  5: 'int64_list',
  6: 'bytes_list',
  7: 'fid_v2_lists',
  8: 'float_lists',
  9: 'double_lists',
  10: 'int64_lists',
  11: 'bytes_lists',
  12: 'int64_value',
  13: 'float_value',
  14: 'double_value',
  15: 'bytes_value',
  16: 'fid_v1_lists',
};
