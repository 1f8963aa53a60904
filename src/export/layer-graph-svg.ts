import dagre from '@dagrejs/dagre';

export interface LayerNode {
  name: string;
  className: string;
  detail: string;
  inbound: string[];
}

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** tfjs names an unnamed layer `<snake_class>_<Class><counter>` (e.g. `dense_Dense12`). */
export function isGeneratedName(name: string, className: string): boolean {
  return new RegExp(`_${className}\\d+$`).test(name);
}

/**
 * Labels of each layer: the model's name when it gave one; for a generated
 * name, the named layer it reads from when it reads one (`from emb_fc_slot_1`), else
 * the class and its rank among layers of that class (`dense 2`).
 */
function labels(layers: LayerNode[]): Map<string, string> {
  const seen = new Map<string, number>();
  const out = new Map<string, string>();
  const given = new Set(layers.filter((l) => !isGeneratedName(l.name, l.className)).map((l) => l.name));
  for (const l of layers) {
    const n = (seen.get(l.className) ?? 0) + 1;
    seen.set(l.className, n);
    if (!isGeneratedName(l.name, l.className)) out.set(l.name, l.name);
    else if (l.inbound.length === 1 && given.has(l.inbound[0]!)) out.set(l.name, `from ${l.inbound[0]}`);
    else out.set(l.name, `${l.className.replace(/^Monolith/, '').toLowerCase()} ${n}`);
  }
  return out;
}

const CHAR = 7.6; // px per character at the 12px label font (monospace-ish estimate for sizing boxes)
const MAX_CHARS = 30;
const clip = (s: string) => (s.length > MAX_CHARS ? `${s.slice(0, MAX_CHARS - 1)}…` : s);

/**
 * The dense model's layer graph as SVG, laid out by dagre (ranked layers,
 * fewer crossings, edges routed around boxes). Each box is as wide as its
 * text; the picture scales down to the page width instead of scrolling.
 */
export function layerGraphSvg(layers: LayerNode[], pageWidth = 1340): string {
  const names = labels(layers);
  const text = new Map<string, [string, string]>();
  for (const l of layers) {
    const line1 = clip(l.className);
    const line2 = clip([names.get(l.name)!, l.detail].filter(Boolean).join(' · '));
    text.set(l.name, [line1, line2]);
  }
  const known = new Set(layers.map((l) => l.name));
  const laidOut = (rankdir: 'TB' | 'LR') => {
    const graph = new dagre.graphlib.Graph();
    graph.setGraph({ rankdir, nodesep: 14, ranksep: 40, edgesep: 6, marginx: 10, marginy: 10 });
    graph.setDefaultEdgeLabel(() => ({}));
    for (const l of layers) {
      const [a, b] = text.get(l.name)!;
      graph.setNode(l.name, { width: 16 + CHAR * Math.max(a.length, b.length), height: 42 });
    }
    for (const l of layers) for (const i of l.inbound) if (known.has(i)) graph.setEdge(i, l.name);
    dagre.layout(graph);
    return graph;
  };
  // Top to bottom unless the picture would have to shrink more than left to right (many inputs side by side).
  const scale = (x: ReturnType<typeof laidOut>) => Math.min(1, pageWidth / (x.graph().width ?? 1));
  const tb = laidOut('TB');
  const g = scale(tb) >= 0.8 ? tb : [tb, laidOut('LR')].sort((a, b) => scale(b) - scale(a))[0]!;
  const { width = 0, height = 0 } = g.graph();
  const edges = g.edges().map((e: { v: string; w: string }) => {
    const pts: Array<{ x: number; y: number }> = g.edge(e).points ?? [];
    const d = pts.map((p, k) => `${k ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
    return `<path class="edge" data-from="${esc(e.v)}" data-to="${esc(e.w)}" d="${d}" marker-end="url(#arrow)"/>`;
  });
  const nodes = layers.map((l) => {
    const n = g.node(l.name);
    const [a, b] = text.get(l.name)!;
    const x = n.x - n.width / 2;
    const y = n.y - n.height / 2;
    return `<g class="layer" data-layer="${esc(l.name)}" transform="translate(${x.toFixed(1)},${y.toFixed(1)})"><title>${esc(l.name)} (${esc(l.className)})${l.detail ? ' ' + esc(l.detail) : ''}</title><rect width="${n.width}" height="${n.height}" rx="6"/><text x="8" y="17" class="cls">${esc(a)}</text><text x="8" y="34" class="detail">${esc(b)}</text></g>`;
  });
  const w = Math.ceil(width);
  const h = Math.ceil(height);
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" style="max-width:100%;height:auto"><defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#888"/></marker></defs>${edges.join('')}${nodes.join('')}</svg>`;
}
