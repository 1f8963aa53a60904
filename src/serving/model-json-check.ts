import { FormatError } from '../errors.js';

type Json = unknown;
const isObj = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Bytes per element of the dtypes tfjs writes into a weights manifest. */
const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

interface LayerNode {
  name: string;
  nodes: number;
  refs: { layer: string; node: number; at: string }[];
}

/**
 * Checks a tfjs `model.json` before tfjs sees it: the topology is a
 * Sequential or functional model whose layers have unique names, every
 * inbound-node, input and output reference names a layer and node that exist,
 * the layer graph has no cycle, and the weights manifest lists well-formed
 * shapes of known dtypes. tfjs's `fromConfig` spins forever on a dangling or
 * cyclic reference; this turns that into a FormatError naming the field.
 * Returns the bytes the weights manifest needs.
 */
export function checkModelJson(json: Json, file: string): number {
  const fail = (what: string, field: string): never => {
    throw new FormatError(what, { file, field });
  };
  if (!isObj(json)) fail('model.json is not a JSON object', '');
  const top = (json as Record<string, Json>).modelTopology;
  if (!isObj(top)) fail('modelTopology must be an object', 'modelTopology');
  const root = isObj((top as Record<string, Json>).model_config) ? ((top as Record<string, Json>).model_config as Record<string, Json>) : (top as Record<string, Json>);
  const className = root.class_name;
  const config = root.config;
  if (typeof className !== 'string') fail('class_name must be a string', 'modelTopology.class_name');
  if (className === 'Sequential') {
    const layers = isObj(config) ? config.layers : config;
    if (!Array.isArray(layers)) fail('a Sequential model needs a list of layers', 'modelTopology.config.layers');
    (layers as Json[]).forEach((l, i) => {
      if (!isObj(l) || typeof l.class_name !== 'string') fail(`layer ${i} has no class_name`, `modelTopology.config.layers[${i}]`);
    });
  } else {
    if (!isObj(config) || !Array.isArray(config.layers)) fail('a functional model needs config.layers', 'modelTopology.config.layers');
    checkGraph(config as Record<string, Json>, fail);
  }
  return checkWeightsManifest((json as Record<string, Json>).weightsManifest, fail);
}

function refOf(r: Json, at: string, fail: (w: string, f: string) => never): { layer: string; node: number; at: string } {
  if (!Array.isArray(r) || typeof r[0] !== 'string' || !Number.isSafeInteger(r[1]) || (r[1] as number) < 0) fail('a tensor reference must be [layer name, node index, tensor index, …]', at);
  const a = r as [string, number];
  return { layer: a[0], node: a[1], at };
}

function checkGraph(config: Record<string, Json>, fail: (w: string, f: string) => never): void {
  const byName = new Map<string, LayerNode>();
  (config.layers as Json[]).forEach((l, i) => {
    const at = `modelTopology.config.layers[${i}]`;
    if (!isObj(l) || typeof l.class_name !== 'string') return fail(`layer ${i} has no class_name`, at);
    const name = typeof l.name === 'string' ? l.name : isObj(l.config) ? l.config.name : undefined;
    if (typeof name !== 'string') return fail(`layer ${i} has no name`, `${at}.name`);
    if (byName.has(name)) return fail(`two layers are named "${name}"`, `${at}.name`);
    const inbound = l.inbound_nodes ?? [];
    if (!Array.isArray(inbound)) return fail(`layer "${name}": inbound_nodes must be a list`, `${at}.inbound_nodes`);
    const refs: LayerNode['refs'] = [];
    inbound.forEach((node, n) => {
      if (!Array.isArray(node)) return fail(`layer "${name}": inbound node ${n} must be a list`, `${at}.inbound_nodes[${n}]`);
      node.forEach((r, k) => refs.push(refOf(r, `${at}.inbound_nodes[${n}][${k}]`, fail)));
    });
    byName.set(name, { name, nodes: l.class_name === 'InputLayer' ? 1 : inbound.length, refs });
  });
  const ends: { layer: string; node: number; at: string }[] = [];
  for (const key of ['input_layers', 'output_layers'] as const) {
    const list = config[key];
    if (!Array.isArray(list) || list.length === 0) fail(`${key} must be a non-empty list`, `modelTopology.config.${key}`);
    (list as Json[]).forEach((r, i) => ends.push(refOf(r, `modelTopology.config.${key}[${i}]`, fail)));
  }
  for (const ref of [...[...byName.values()].flatMap((l) => l.refs), ...ends]) {
    const target = byName.get(ref.layer);
    if (!target) fail(`references layer "${ref.layer}", which the model does not have`, ref.at);
    else if (ref.node >= target.nodes) fail(`references node ${ref.node} of layer "${ref.layer}", which has ${target.nodes}`, ref.at);
  }
  // No cycle: depth-first with colours, iteratively (the graph comes from an untrusted file).
  const state = new Map<string, 1 | 2>();
  for (const start of byName.keys()) {
    if (state.has(start)) continue;
    const stack: { name: string; next: number }[] = [{ name: start, next: 0 }];
    state.set(start, 1);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const refs = byName.get(top.name)!.refs;
      if (top.next === refs.length) {
        state.set(top.name, 2);
        stack.pop();
        continue;
      }
      const dep = refs[top.next++]!;
      const s = state.get(dep.layer);
      if (s === 1) fail(`layer "${top.name}" depends on itself through "${dep.layer}"`, dep.at);
      if (s === undefined) {
        state.set(dep.layer, 1);
        stack.push({ name: dep.layer, next: 0 });
      }
    }
  }
}

function checkWeightsManifest(manifest: Json, fail: (w: string, f: string) => never): number {
  if (manifest === undefined) return 0;
  if (!Array.isArray(manifest)) return fail('weightsManifest must be a list', 'weightsManifest');
  let bytes = 0;
  const names = new Set<string>();
  manifest.forEach((group, g) => {
    const at = `weightsManifest[${g}]`;
    if (!isObj(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) return fail('a weights group needs paths and weights lists', at);
    for (const p of group.paths) if (typeof p !== 'string' || p.includes('..') || p.startsWith('/')) fail(`weight file path ${JSON.stringify(p)} must stay in the model directory`, `${at}.paths`);
    group.weights.forEach((w, i) => {
      const wAt = `${at}.weights[${i}]`;
      if (!isObj(w) || typeof w.name !== 'string') return fail('a weight needs a name', wAt);
      if (names.has(w.name)) fail(`weight "${w.name}" is listed twice`, `${wAt}.name`);
      names.add(w.name);
      const size = DTYPE_BYTES[String(w.dtype)];
      if (size === undefined) fail(`weight "${w.name}" has dtype ${String(w.dtype)} (float32, int32 or bool)`, `${wAt}.dtype`);
      if (!Array.isArray(w.shape) || !w.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) fail(`weight "${w.name}" needs a shape of non-negative integers`, `${wAt}.shape`);
      bytes += (w.shape as number[]).reduce((a, b) => a * b, 1) * size!;
      if (!Number.isSafeInteger(bytes)) fail(`weight "${w.name}" is too large`, `${wAt}.shape`);
    });
  });
  return bytes;
}
