import type { ExportedModel, HeadOutputs } from './exported-model.js';
import type { ParsedRows } from './parse-inputs.js';
import { checkAbort, type PredictOptions, type RowRunner } from './predict-handler.js';

export interface BatchingOptions {
  /** Rows of one merged run (TF Serving's max_batch_size; default 128). */
  maxBatchSize?: number;
  /** How long the first queued request waits for others, microseconds (batch_timeout_micros; default 1000). */
  batchTimeoutMicros?: number;
}

interface Pending {
  parsed: ParsedRows;
  heads: readonly string[] | undefined;
  abort: PredictOptions['abort'];
  resolve(out: HeadOutputs): void;
  reject(err: unknown): void;
}

/** Rows of several requests as one: fids and row splits concatenated per feature, dense values per input. */
export function mergeRows(parts: readonly ParsedRows[]): ParsedRows {
  const rows = parts.reduce((a, p) => a + p.rows, 0);
  const sparse = parts[0]!.sparse.map((_, f) => {
    const fids = new Uint32Array(parts.reduce((a, p) => a + p.sparse[f]!.fids.length, 0));
    const rowSplits = new Int32Array(rows + 1);
    let fidAt = 0;
    let rowAt = 0;
    for (const p of parts) {
      const s = p.sparse[f]!;
      fids.set(s.fids, fidAt);
      for (let r = 1; r <= p.rows; r++) rowSplits[rowAt + r] = s.rowSplits[r]! + fidAt / 2;
      fidAt += s.fids.length;
      rowAt += p.rows;
    }
    return { fids, rowSplits };
  });
  const dense = parts[0]!.dense.map((_, d) => {
    const out = new Float32Array(parts.reduce((a, p) => a + p.dense[d]!.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p.dense[d]!, at);
      at += p.dense[d]!.length;
    }
    return out;
  });
  if (!parts.every((p) => p.embeddings)) return { rows, sparse, dense };
  const embeddings = parts[0]!.embeddings!.map((_, f) => {
    const out = new Float32Array(parts.reduce((a, p) => a + p.embeddings![f]!.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p.embeddings![f]!, at);
      at += p.embeddings![f]!.length;
    }
    return out;
  });
  return { rows, sparse, dense, embeddings };
}

/**
 * Server-side batching (TF Serving's --enable_batching): rows of concurrent
 * serving_default requests for the same version are queued and run through
 * the dense model together, once `maxBatchSize` rows are queued or
 * `batchTimeoutMicros` after the first one, whichever comes first; each
 * request gets its own rows of the outputs back.
 */
export class RequestBatcher implements RowRunner {
  private readonly queues = new Map<ExportedModel, { items: Pending[]; rows: number; timer?: NodeJS.Timeout }>();
  readonly maxBatchSize: number;
  readonly timeoutMs: number;

  constructor(opts: BatchingOptions = {}) {
    this.maxBatchSize = Math.max(1, opts.maxBatchSize ?? 128);
    this.timeoutMs = Math.max(0, opts.batchTimeoutMicros ?? 1000) / 1000;
  }

  run(model: ExportedModel, parsed: ParsedRows, heads: readonly string[] | undefined, abort?: PredictOptions['abort']): Promise<HeadOutputs> {
    if (parsed.rows >= this.maxBatchSize) return Promise.resolve(model.predictParsed(parsed, heads));
    return new Promise<HeadOutputs>((resolve, reject) => {
      let q = this.queues.get(model);
      if (q && q.rows + parsed.rows > this.maxBatchSize) this.flush(model);
      q = this.queues.get(model);
      if (!q) {
        q = { items: [], rows: 0 };
        this.queues.set(model, q);
        q.timer = setTimeout(() => this.flush(model), this.timeoutMs);
      }
      q.items.push({ parsed, heads, abort, resolve, reject });
      q.rows += parsed.rows;
      if (q.rows >= this.maxBatchSize) this.flush(model);
    });
  }

  private flush(model: ExportedModel): void {
    const q = this.queues.get(model);
    if (!q) return;
    this.queues.delete(model);
    clearTimeout(q.timer);
    // Requests whose client went away or whose deadline passed while queued are not computed.
    q.items = q.items.filter((p) => {
      try {
        checkAbort(p);
        return true;
      } catch (err) {
        p.reject(err);
        return false;
      }
    });
    if (!q.items.length) return;
    try {
      // Every head is computed when requests filter differently; each request keeps its own.
      const all = q.items.every((p) => p.heads === undefined) ? undefined : [...new Set(q.items.flatMap((p) => p.heads ?? model.manifest.heads.map((h) => h.name)))];
      const out = model.predictParsed(mergeRows(q.items.map((p) => p.parsed)), all);
      let at = 0;
      for (const p of q.items) {
        const mine: HeadOutputs = {};
        for (const [h, v] of Object.entries(out)) if (!p.heads || p.heads.includes(h)) mine[h] = v.slice(at, at + p.parsed.rows);
        at += p.parsed.rows;
        p.resolve(mine);
      }
    } catch (err) {
      for (const p of q.items) p.reject(err);
    }
  }

  /** Runs whatever is queued now. */
  close(): void {
    for (const m of [...this.queues.keys()]) this.flush(m);
  }
}
