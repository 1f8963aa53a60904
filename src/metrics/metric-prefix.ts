/** `MONOLITH_METRIC_PREFIX`, else `monolith.training` (utils.get_metric_prefix). */
export function getMetricPrefix(env: NodeJS.ProcessEnv = process.env): string {
  return env.MONOLITH_METRIC_PREFIX || 'monolith.training';
}
