import { ConfigError } from '../../errors.js';
import { adadeltaOptimizer } from './adadelta.js';
import { adagradOptimizer } from './adagrad.js';
import { adamOptimizer, amsgradOptimizer } from './adam.js';
import { ftrlOptimizer } from './ftrl.js';
import { groupAdagradOptimizer } from './group-adagrad.js';
import { groupFtrlOptimizer } from './group-ftrl.js';
import { momentumOptimizer } from './momentum.js';
import { rmspropOptimizer, rmspropV2Optimizer } from './rmsprop.js';
import type { OptimizerConfig, SegmentOptimizer } from './segment-optimizer.js';
import { sgdOptimizer } from './sgd.js';

export type { OptimizerConfig, SegmentOptimizer, SingleOptimizerDump } from './segment-optimizer.js';

/** Builds the optimizer an OptimizerConfig oneof names; no optimizer set means SGD (as an empty config). */
export function createOptimizer(c: OptimizerConfig | null | undefined, dim: number, where = 'segment'): SegmentOptimizer {
  if (!c) return sgdOptimizer({}, dim);
  if (c.sgd) return sgdOptimizer(c.sgd, dim);
  if (c.adagrad) return adagradOptimizer(c.adagrad, dim);
  if (c.ftrl) return ftrlOptimizer(c.ftrl, dim, where);
  if (c.adam) return adamOptimizer(c.adam, dim);
  if (c.amsgrad) return amsgradOptimizer(c.amsgrad, dim);
  if (c.momentum) return momentumOptimizer(c.momentum, dim);
  if (c.rmsprop) return rmspropOptimizer(c.rmsprop, dim);
  if (c.rmspropv2) return rmspropV2Optimizer(c.rmspropv2, dim);
  if (c.adadelta) return adadeltaOptimizer(c.adadelta, dim);
  if (c.groupFtrl) return groupFtrlOptimizer(c.groupFtrl, dim);
  if (c.groupAdagrad) return groupAdagradOptimizer(c.groupAdagrad, dim);
  const named = Object.keys(c).filter((k) => (c as Record<string, unknown>)[k] != null && k !== 'stochasticRoundingFloat16');
  if (named.length === 0) return sgdOptimizer({}, dim);
  throw new ConfigError(`${where}: optimizer ${named.join(',')} is not supported (supported: sgd, adagrad, ftrl, adam, amsgrad, momentum, rmsprop, rmspropv2, adadelta, groupFtrl, groupAdagrad)`);
}

/** The warmup_steps field of whichever optimizer the config names (0 when absent). */
export function warmupStepsOf(c: OptimizerConfig | null | undefined): number {
  if (!c) return 0;
  for (const v of Object.values(c)) {
    if (v && typeof v === 'object' && 'warmupSteps' in v) {
      const w = (v as { warmupSteps?: number | { toNumber(): number } | null }).warmupSteps;
      return w == null ? 0 : typeof w === 'number' ? w : w.toNumber();
    }
  }
  return 0;
}
