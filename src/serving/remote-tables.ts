import { partitionOf } from '../export/table-export.js';
import type { EmbeddingFeatureSpec } from '../model/model-spec.js';
import { lookupSignatureName } from '../export/exporters.js';
import { ServingError } from './errors.js';
import type { ParsedRows } from './parse-inputs.js';
import { PredictionClient } from './prediction-client.js';
import { int64WordsTensor, readFloats, shapeOf } from './tensor-proto.js';

export interface RemoteTablesOptions {
  /** `host:port` of each parameter-server process, `ps_0` first. */
  addrs: readonly string[];
  /** model_spec.name the parameter servers serve under. */
  modelName: string;
  /** Deadline of one lookup call (default 10000 ms). */
  timeoutMs?: number;
}

/**
 * The embedding tables of a distributed export, held by parameter-server
 * processes: ids are routed to `ps_<fid % count>` and looked up there with
 * the `<table>/lookup` signature (TF Serving Predict over gRPC), each
 * parameter server answering for the ids of its partition.
 */
export class RemoteTables {
  private readonly clients: PredictionClient[];

  constructor(readonly opts: RemoteTablesOptions) {
    if (!opts.addrs.length) throw new ServingError('FAILED_PRECONDITION', 'a distributed entry needs the address of at least one parameter server');
    this.clients = opts.addrs.map((a) => new PredictionClient(a));
  }

  get count(): number {
    return this.clients.length;
  }

  /** Embeddings of `ids` ((lo, hi) word pairs) in `table` of width `dim`, from the parameter servers that own them (missing ids: zeros). */
  async lookup(table: string, dim: number, ids: Uint32Array): Promise<Float32Array> {
    const n = ids.length / 2;
    const out = new Float32Array(n * dim);
    if (!n) return out;
    const owner = new Uint32Array(n);
    const counts = new Array<number>(this.count).fill(0);
    for (let i = 0; i < n; i++) counts[(owner[i] = partitionOf(ids[2 * i]!, ids[2 * i + 1]!, this.count))]!++;
    const parts = counts.map((c) => ({ ids: new Uint32Array(2 * c), at: 0 }));
    for (let i = 0; i < n; i++) {
      const p = parts[owner[i]!]!;
      p.ids.set(ids.subarray(2 * i, 2 * i + 2), 2 * p.at++);
    }
    const answers = await Promise.all(parts.map((p, ps) => (p.at ? this.call(ps, table, dim, p.ids) : Promise.resolve(new Float32Array(0)))));
    const next = new Array<number>(this.count).fill(0);
    for (let i = 0; i < n; i++) {
      const ps = owner[i]!;
      const k = next[ps]!++;
      out.set(answers[ps]!.subarray(k * dim, (k + 1) * dim), i * dim);
    }
    return out;
  }

  private async call(ps: number, table: string, dim: number, ids: Uint32Array): Promise<Float32Array> {
    const addr = this.opts.addrs[ps]!;
    const sig = lookupSignatureName(table);
    let res;
    try {
      res = await this.clients[ps]!.predict({ modelSpec: { name: this.opts.modelName, signatureName: sig }, inputs: { id: int64WordsTensor(ids) }, outputFilter: ['embedding'] }, { timeoutMs: this.opts.timeoutMs ?? 10000 });
    } catch (err) {
      throw new ServingError('UNAVAILABLE', `parameter server ps_${ps} (${addr}): ${sig} failed: ${(err as Error).message}`, { cause: err });
    }
    const t = res.outputs?.embedding;
    const n = ids.length / 2;
    if (!t) throw new ServingError('INTERNAL', `parameter server ps_${ps} (${addr}): ${sig} answered without an "embedding" output`);
    const shape = shapeOf(t);
    const values = readFloats('embedding', t);
    if (shape.length !== 2 || shape[0] !== n || shape[1] !== dim || values.length !== n * dim) {
      throw new ServingError('INTERNAL', `parameter server ps_${ps} (${addr}): ${sig} answered shape [${shape.join(', ')}] with ${values.length} values; expected [${n}, ${dim}] (is it serving the same export?)`);
    }
    return values;
  }

  /**
   * Parsed rows with each feature's embeddings fetched (aligned with its
   * fids): one lookup per table and parameter server for all features of the request.
   */
  async fetch(features: readonly EmbeddingFeatureSpec[], parsed: ParsedRows): Promise<ParsedRows> {
    const byTable = new Map<string, { dim: number; members: number[] }>();
    features.forEach((f, i) => {
      const g = byTable.get(f.table);
      if (g) g.members.push(i);
      else byTable.set(f.table, { dim: f.dim, members: [i] });
    });
    const embeddings = new Array<Float32Array>(features.length);
    await Promise.all(
      [...byTable].map(async ([table, { dim, members }]) => {
        const total = members.reduce((a, i) => a + parsed.sparse[i]!.fids.length, 0);
        const ids = new Uint32Array(total);
        let at = 0;
        for (const i of members) {
          ids.set(parsed.sparse[i]!.fids, at);
          at += parsed.sparse[i]!.fids.length;
        }
        const emb = await this.lookup(table, dim, ids);
        at = 0;
        for (const i of members) {
          const n = parsed.sparse[i]!.fids.length / 2;
          embeddings[i] = emb.subarray(at * dim, (at + n) * dim);
          at += n;
        }
      }),
    );
    return { ...parsed, embeddings };
  }

  close(): void {
    for (const c of this.clients) c.close();
  }
}
