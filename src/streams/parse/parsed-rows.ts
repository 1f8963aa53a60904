import { denseColumn, sparseColumn, type Batch } from '../../batch/batch.js';
import { ConfigError } from '../../errors.js';
import type { DenseInputSpec, EmbeddingFeatureSpec } from '../../model/model-spec.js';
import type { ParsedRows } from '../../serving/parse-inputs.js';

/**
 * A parsed batch as the columns an export takes: per exported feature its
 * sparse column (by name, else by slot), per dense input its dense column.
 * A column the export needs and the batch lacks is a ConfigError naming it.
 */
export function parsedRowsOf(batch: Batch, features: readonly EmbeddingFeatureSpec[], denseInputs: readonly DenseInputSpec[]): ParsedRows {
  return {
    rows: batch.rows,
    sparse: features.map((f) => {
      const c = sparseColumn(batch, f.name) ?? sparseColumn(batch, f.slot);
      if (!c) throw new ConfigError(`the export needs sparse feature ${f.name} (slot ${f.slot}), which the parse configuration does not read`);
      return { fids: c.fids, rowSplits: c.rowSplits };
    }),
    dense: denseInputs.map((d) => {
      const c = denseColumn(batch, d.name);
      if (!c || c.width !== d.width) throw new ConfigError(`the export needs dense input ${d.name} of width ${d.width}; the parse configuration gives ${c ? `width ${c.width}` : 'none'}`);
      return c.values;
    }),
  };
}
