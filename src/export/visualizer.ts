import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readManifest, type ExportManifest } from './export-manifest.js';
import { MODEL_JSON } from './fs-model-io.js';
import { decodeSavedModel, SAVED_MODEL_FILE } from './signature-def.js';
import type { SavedModelSignature } from './export-context.js';

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

interface LayerNode {
  name: string;
  className: string;
  detail: string;
  inbound: string[];
}

/** Layers of a tfjs LayersModel topology (model.json) with their inbound layers. */
function layersOf(topology: unknown): LayerNode[] {
  // tfjs writes the Keras config at the top level; Keras' own model.json nests it under model_config.
  const t = topology as { config?: { layers?: unknown[] }; model_config?: { config?: { layers?: unknown[] } } };
  const cfg = t?.model_config?.config ?? t?.config;
  return (cfg?.layers ?? []).map((l) => {
    const layer = l as { name: string; class_name: string; config: Record<string, unknown>; inbound_nodes?: unknown[][] };
    const c = layer.config ?? {};
    const detail = [c.units !== undefined ? `units ${c.units}` : '', c.activation && c.activation !== 'linear' ? String(c.activation) : '', c.batch_input_shape ? `shape ${JSON.stringify(c.batch_input_shape)}` : ''].filter(Boolean).join(', ');
    const inbound = (layer.inbound_nodes ?? []).flatMap((node) => (node as unknown[]).map((x) => String((x as unknown[])[0])));
    return { name: layer.name, className: layer.class_name, detail, inbound };
  });
}

/** Column of each layer: 0 for inputs, else 1 + the deepest inbound layer. */
function depths(layers: LayerNode[]): Map<string, number> {
  const d = new Map<string, number>();
  const byName = new Map(layers.map((l) => [l.name, l]));
  const depth = (n: string, seen = new Set<string>()): number => {
    if (d.has(n)) return d.get(n)!;
    if (seen.has(n)) return 0;
    seen.add(n);
    const l = byName.get(n);
    const v = l && l.inbound.length ? 1 + Math.max(...l.inbound.map((i) => depth(i, seen))) : 0;
    d.set(n, v);
    return v;
  };
  for (const l of layers) depth(l.name);
  return d;
}

function layerGraphSvg(layers: LayerNode[]): string {
  const d = depths(layers);
  const cols = new Map<number, LayerNode[]>();
  for (const l of layers) cols.set(d.get(l.name)!, [...(cols.get(d.get(l.name)!) ?? []), l]);
  const W = 170;
  const H = 46;
  const pos = new Map<string, { x: number; y: number }>();
  for (const [c, ls] of cols) ls.forEach((l, r) => pos.set(l.name, { x: 20 + c * (W + 50), y: 20 + r * (H + 24) }));
  const width = 40 + cols.size * (W + 50);
  const height = 40 + Math.max(1, ...[...cols.values()].map((l) => l.length)) * (H + 24);
  const edges = layers.flatMap((l) =>
    l.inbound
      .filter((i) => pos.has(i))
      .map((i) => {
        const a = pos.get(i)!;
        const b = pos.get(l.name)!;
        return `<path class="edge" d="M${a.x + W},${a.y + H / 2} C${a.x + W + 25},${a.y + H / 2} ${b.x - 25},${b.y + H / 2} ${b.x},${b.y + H / 2}"/>`;
      }),
  );
  const nodes = layers.map((l) => {
    const p = pos.get(l.name)!;
    return `<g class="layer" data-layer="${esc(l.name)}" transform="translate(${p.x},${p.y})"><rect width="${W}" height="${H}" rx="6"/><text x="8" y="18" class="cls">${esc(l.className)}</text><text x="8" y="36" class="detail">${esc(l.name)}${l.detail ? ' · ' + esc(l.detail) : ''}</text></g>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${edges.join('')}${nodes.join('')}</svg>`;
}

function signatureTable(sigs: SavedModelSignature[]): string {
  const rows = sigs.map((s) => {
    const io = (m: SavedModelSignature['inputs']) => Object.entries(m).map(([k, v]) => `<code>${esc(k)}</code> ${esc(v.dtype)} [${v.shape.join(', ')}]`).join('<br>') || '—';
    return `<tr class="signature" data-signature="${esc(s.name)}"><td><b>${esc(s.name)}</b></td><td>${io(s.inputs)}</td><td>${io(s.outputs)}</td></tr>`;
  });
  return `<table><thead><tr><th>signature</th><th>inputs</th><th>outputs</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function tablesTable(m: ExportManifest, graph: string): string {
  return m.tables
    .map(
      (t) =>
        `<tr class="table-row" data-table="${esc(t.name)}"><td>${esc(graph)}</td><td>${esc(t.name)}</td><td>${t.dim}</td><td>${t.entries ?? 'shared'}</td><td>${t.fp16 ? 'fp16' : 'fp32'}</td><td>${t.partition ? `fid % ${t.partition.count} = ${t.partition.index}` : 'all'}</td><td><code>${esc(t.basename)}</code></td></tr>`,
    )
    .join('');
}

/**
 * A self-contained HTML page (inline CSS and SVG, no scripts or external
 * files) picturing an export: its signatures, features and the tables they
 * read, the dense model's layer graph, and the sub-models of a distributed export.
 */
export async function renderExportHtml(dir: string): Promise<string> {
  const m = await readManifest(dir);
  const sigs = decodeSavedModel(await readFile(join(dir, SAVED_MODEL_FILE)));
  let layers: LayerNode[] = [];
  if (m.dense) layers = layersOf((JSON.parse(await readFile(join(resolve(dir, m.dense), MODEL_JSON), 'utf8')) as { modelTopology: unknown }).modelTopology);
  const subs: { graph: string; manifest: ExportManifest }[] = [];
  for (const rel of m.ps ?? []) {
    try {
      subs.push({ graph: rel, manifest: await readManifest(resolve(dir, rel)) });
    } catch {
      subs.push({ graph: `${rel} (missing)`, manifest: { ...m, tables: [] } });
    }
  }
  const features = m.features
    .map((f) => `<tr class="feature" data-feature="${esc(f.name)}"><td>${esc(f.name)}</td><td>${f.slot}</td><td>${f.dim}</td><td>${esc(f.combiner)}${f.maxSeqLength ? ` (${f.maxSeqLength})` : ''}</td><td>${esc(f.table)}</td></tr>`)
    .join('');
  const dense = m.denseInputs.map((d) => `<li>${esc(d.name)} (width ${d.width})</li>`).join('');
  const heads = m.heads.map((h) => `<li>${esc(h.name)}: ${esc(h.kind)}</li>`).join('');
  const css = `body{font:14px system-ui,sans-serif;margin:24px;color:#222}h1{font-size:20px}h2{font-size:16px;margin-top:28px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
svg .layer rect{fill:#eef4ff;stroke:#3b6fd8}svg .cls{font-weight:600;font-size:13px}svg .detail{font-size:11px;fill:#444}svg .edge{fill:none;stroke:#888;stroke-width:1.5}.meta{color:#555}`;
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${esc(m.modelName)} ${esc(m.graph)} ${esc(m.version)}</title><style>${css}</style></head><body>
<h1>${esc(m.modelName)} — ${esc(m.graph)} version ${esc(m.version)}</h1>
<p class="meta">${esc(m.kind)} export · input <code>${esc(m.variant)}</code> · ${m.globalStep !== undefined ? `global step ${m.globalStep} · ` : ''}created ${esc(m.createdAt)}${m.denseOnly ? ' · dense only' : ''}</p>
<h2>Signatures</h2>${signatureTable(sigs)}
<h2>Features</h2><table><thead><tr><th>feature</th><th>slot</th><th>dim</th><th>combiner</th><th>table</th></tr></thead><tbody>${features}</tbody></table>
<h2>Dense inputs</h2><ul>${dense || '<li>none</li>'}</ul><h2>Heads</h2><ul>${heads || '<li>none</li>'}</ul>
<h2>Tables</h2><table><thead><tr><th>graph</th><th>table</th><th>dim</th><th>entries</th><th>storage</th><th>ids</th><th>files</th></tr></thead><tbody>${tablesTable(m, m.graph)}${subs.map((s) => tablesTable(s.manifest, s.graph)).join('')}</tbody></table>
<h2>Dense model</h2><div id="dense-graph">${layers.length ? layerGraphSvg(layers) : '<p>no dense model in this graph</p>'}</div>
</body></html>`;
}
