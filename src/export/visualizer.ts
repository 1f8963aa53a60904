import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readManifest, type ExportManifest } from './export-manifest.js';
import { MODEL_JSON } from './fs-model-io.js';
import { decodeSavedModel, SAVED_MODEL_FILE } from './signature-def.js';
import type { SavedModelSignature } from './export-context.js';
import { layerGraphSvg, type LayerNode } from './layer-graph-svg.js';

/** fc_slot_2 before fc_slot_10. */
const natural = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

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

function signatureTable(sigs: SavedModelSignature[]): string {
  const rows = [...sigs].sort((a, b) => natural(a.name, b.name)).map((s) => {
    const io = (m: SavedModelSignature['inputs']) => Object.entries(m).sort(([a], [b]) => natural(a, b)).map(([k, v]) => `<code>${esc(k)}</code> ${esc(v.dtype)} [${v.shape.join(', ')}]`).join('<br>') || '—';
    return `<tr class="signature" data-signature="${esc(s.name)}"><td><b>${esc(s.name)}</b></td><td>${io(s.inputs)}</td><td>${io(s.outputs)}</td></tr>`;
  });
  return `<table><thead><tr><th>signature</th><th>inputs</th><th>outputs</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function tablesTable(m: ExportManifest, graph: string): string {
  return [...m.tables]
    .sort((a, b) => natural(a.name, b.name))
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
  const features = [...m.features]
    .sort((a, b) => natural(a.name, b.name))
    .map((f) => `<tr class="feature" data-feature="${esc(f.name)}"><td>${esc(f.name)}</td><td>${f.slot}</td><td>${f.dim}</td><td>${esc(f.combiner)}${f.maxSeqLength ? ` (${f.maxSeqLength})` : ''}</td><td>${esc(f.table)}</td></tr>`)
    .join('');
  const dense = m.denseInputs.map((d) => `<li>${esc(d.name)} (width ${d.width})</li>`).join('');
  const heads = m.heads.map((h) => `<li>${esc(h.name)}: ${esc(h.kind)}</li>`).join('');
  const css = `body{font:14px system-ui,sans-serif;margin:24px;color:#222}h1{font-size:20px}h2{font-size:16px;margin-top:28px}table{border-collapse:collapse;max-width:100%}td,th{overflow-wrap:anywhere;border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
svg .layer rect{fill:#eef4ff;stroke:#3b6fd8}svg .cls{font:600 12px ui-monospace,monospace}svg .detail{font:11px ui-monospace,monospace;fill:#444}svg .edge{fill:none;stroke:#888;stroke-width:1.2;stroke-opacity:.8}#dense-graph{max-width:100%;overflow:hidden}.meta{color:#555}`;
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
