import { rm } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { log } from '../util/log.js';
import { getExportSaverListenerState, overwriteExportSaverListenerState } from './export-state.js';
import { DEFAULT_CKPT_BASENAME, existingCheckpointSteps, getGlobalStep } from './params-source.js';
import type { ExportCall } from './exporters.js';
import type { MetricsClient } from '../metrics/metrics-client.js';
import type { CheckpointListener } from '../graph/checkpoint-saver.js';

/** The part of a metrics client the listener uses (Monolith's `emit_store`, then a flush when the client has one). */
export type ExportMetricsClient = Pick<MetricsClient, 'emitStore'> & { flush?(): void | Promise<void> };

/** Anything that exports for a checkpoint: one directory, several, or graph name → directory. */
export interface CheckpointExporter {
  exportSavedModel(call: ExportCall): Promise<string | string[] | Record<string, string> | undefined>;
}

export interface ExportSaverListenerOptions {
  /** Checkpoint directory (Monolith's SaveHelper save_path is `<modelDir>/model.ckpt`). */
  modelDir: string;
  exporter: CheckpointExporter;
  ckptBasename?: string;
  /** Checkpoints whose exports are never pruned. */
  exemptCheckpointPaths?: string[];
  /** Dense-only exports sit in `<modelDir>/…/<graph>/<v>`: steps of the full model dir's checkpoints are kept too. */
  denseOnly?: boolean;
  /** Steps that still have a checkpoint (default: `<modelDir>/<basename>-<step>.{index,assets,dense}`). */
  existingSteps?: () => Promise<Iterable<number>>;
  /** Steps of the full model's checkpoints, for denseOnly (default: read from the model dir two levels above the export base). */
  fullModelSteps?: (exportDirBase: string) => Promise<Iterable<number>>;
  metrics?: ExportMetricsClient;
}

export const LATEST_VERSION_METRIC = 'export_models.latest_version';

/**
 * Exports after every checkpoint save (Monolith's ExportSaverListener): each
 * export directory is appended to its base's ExportSaverListenerState (written
 * atomically), then exports whose step no longer has a checkpoint (and is not
 * exempt) are deleted and dropped from the state; `export_models.latest_version`
 * is emitted for numeric version names.
 */
export class ExportSaverListener {
  private readonly exempt: Set<number>;
  private lastMetricWarning = -Infinity;

  constructor(private readonly opts: ExportSaverListenerOptions) {
    this.exempt = new Set((opts.exemptCheckpointPaths ?? []).map(getGlobalStep));
  }

  private get basename(): string {
    return this.opts.ckptBasename ?? DEFAULT_CKPT_BASENAME;
  }

  checkpointPrefix(step: number): string {
    return `${this.opts.modelDir}/${this.basename}-${step}`;
  }

  /** This listener in the shape the training pipeline's checkpointing calls (`checkpoint.listeners`). */
  asCheckpointListener(): CheckpointListener {
    return { afterSave: async (_ckptPath, step) => void (await this.afterSave(step)) };
  }

  async afterSave(globalStep: number): Promise<string[]> {
    const result = await this.opts.exporter.exportSavedModel({ checkpointPath: this.checkpointPrefix(globalStep), globalStep });
    const dirs = result === undefined ? [] : typeof result === 'string' ? [result] : Array.isArray(result) ? result : Object.values(result);
    for (const dir of dirs) {
      await this.addEntryToState(dir, globalStep);
      await this.maybeDeleteOldEntries(dir);
    }
    return dirs;
  }

  private async addEntryToState(exportDir: string, globalStep: number): Promise<void> {
    const base = dirname(exportDir);
    const state = await getExportSaverListenerState(base);
    if (!state.entries.some((e) => e.exportDir === exportDir)) state.entries.push({ exportDir, globalStep });
    await overwriteExportSaverListenerState(base, state);
    await this.updateMetrics(base, basename(exportDir));
  }

  private async maybeDeleteOldEntries(exportDir: string): Promise<void> {
    const base = dirname(exportDir);
    const state = await getExportSaverListenerState(base);
    const keep = new Set<number>([...(await (this.opts.existingSteps ?? (() => existingCheckpointSteps(this.opts.modelDir, this.basename)))()), ...this.exempt]);
    if (this.opts.denseOnly) {
      const full = this.opts.fullModelSteps ?? ((b: string) => existingCheckpointSteps(dirname(dirname(b)), this.basename));
      for (const s of await full(base)) keep.add(s);
    }
    const kept = [];
    for (const e of state.entries) {
      const step = typeof e.globalStep === 'number' ? e.globalStep : Number(e.globalStep ?? 0);
      if (keep.has(step)) {
        kept.push(e);
        continue;
      }
      log.info(`deleting export ${e.exportDir} (checkpoint ${step} is gone)`);
      try {
        await rm(e.exportDir ?? '', { recursive: true, force: true });
      } catch (err) {
        log.warn(`could not delete ${e.exportDir}: ${(err as Error).message}`);
      }
    }
    await overwriteExportSaverListenerState(base, { entries: kept });
  }

  private async updateMetrics(exportDirBase: string, version: string): Promise<void> {
    const m = this.opts.metrics;
    if (!m) return;
    const v = version.split('.')[0]!;
    if (!/^\d+$/.test(v)) return;
    try {
      await m.emitStore(LATEST_VERSION_METRIC, Number(v), { model_name: basename(exportDirBase) });
      await m.flush?.();
    } catch (err) {
      const now = Date.now();
      if (now - this.lastMetricWarning > 1_200_000) {
        this.lastMetricWarning = now;
        log.warn(`cannot emit ${LATEST_VERSION_METRIC}: ${(err as Error).message}`);
      }
    }
  }
}
