/**
 * Spellings Monolith and TF Serving users type, mapped to this CLI's flags:
 * `--model_base_path=/m` → `--model-base-path=/m`, `--rest_api_port` →
 * `--rest-api-port` (every underscore flag of every command). Values and
 * arguments after `--` are left alone.
 */
export function normalizeArgv(args: readonly string[]): string[] {
  let passthrough = false;
  return args.map((a) => {
    if (a === '--') passthrough = true;
    if (passthrough || !a.startsWith('--')) return a;
    const eq = a.indexOf('=');
    const name = (eq < 0 ? a : a.slice(0, eq)).replace(/_/g, '-');
    return eq < 0 ? name : `${name}${a.slice(eq)}`;
  });
}
