import { ConfigError } from '../errors.js';
import { tensorflow } from '../proto.js';

/** The tensor element types monolith-ts generates data for. */
export type DType = 'float32' | 'float64' | 'int32' | 'int64' | 'bool' | 'string';

const ALIASES: Record<DType, readonly string[]> = {
  int32: ['int', 'int32', 'short', 'uint', 'uint32', '3', '22'],
  int64: ['int64', 'long', 'uint64', '9', '23'],
  float32: ['float', 'float32', '1'],
  float64: ['float64', 'double', '2'],
  bool: ['bool', 'boolean', '10'],
  string: ['str', 'string', 'char', '7'],
};

/**
 * Maps the names and TF DataType numbers the warmup tools accept to a dtype
 * (`tf_dtype` in warmup_data_gen.py, with int64 mapped to int64, not `tf.int46`).
 */
export function parseDType(name: string): DType {
  const n = name.trim().toLowerCase();
  for (const [dtype, aliases] of Object.entries(ALIASES)) if (aliases.includes(n)) return dtype as DType;
  throw new ConfigError(`unknown dtype "${name}" (expected one of ${Object.values(ALIASES).flat().join(', ')})`);
}

const DT = tensorflow.DataType;
export const TF_DATA_TYPE: Record<DType, tensorflow.DataType> = {
  float32: DT.DT_FLOAT,
  float64: DT.DT_DOUBLE,
  int32: DT.DT_INT32,
  int64: DT.DT_INT64,
  bool: DT.DT_BOOL,
  string: DT.DT_STRING,
};

export function dtypeOfTf(dt: tensorflow.DataType): DType | undefined {
  return (Object.keys(TF_DATA_TYPE) as DType[]).find((k) => TF_DATA_TYPE[k] === dt);
}
