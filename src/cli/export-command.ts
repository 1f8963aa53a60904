import { Command, Option } from 'commander';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.js';
import type { ModelModule } from '../model/model-spec.js';
import { DistributedExporter, StandaloneExporter } from '../export/exporters.js';
import { checkpointParams, getGlobalStep, latestCheckpoint } from '../export/params-source.js';
import { ensureTfBackend } from '../serving/tf-backend.js';
import { intArg, list } from './options.js';

/** Imports a model module (`createModel(options)`) by path. */
export async function importModelModule(path: string): Promise<ModelModule> {
  const mod = (await import(pathToFileURL(resolve(path)).href)) as Partial<ModelModule> & { default?: Partial<ModelModule> };
  const m = typeof mod.createModel === 'function' ? mod : mod.default;
  if (!m || typeof m.createModel !== 'function') throw new ConfigError(`${path} does not export createModel(options)`);
  return m as ModelModule;
}

export function exportCommand(): Command {
  return new Command('export')
    .description('export a model from a checkpoint directory, standalone or distributed (demo_export; training first is left to the training CLI)')
    .requiredOption('--model-module <path>', 'module exporting createModel(options)')
    .option('--model-options <json>', 'options passed to createModel', '{}')
    .requiredOption('--model-dir <dir>', 'checkpoint directory (model.ckpt-<step>.dense/ and .assets/)')
    .option('--checkpoint <prefix>', 'checkpoint prefix …/model.ckpt-<step> (default: the newest)')
    .requiredOption('--export-base <dir>', 'where versions are written')
    .addOption(new Option('--export-mode <mode>', 'layout').choices(['standalone', 'distributed']).default('standalone'))
    .option('--num-ps <n>', 'parameter servers (distributed)', intArg, 5)
    .option('--shared-embedding', 'reference the checkpoint table files instead of copying rows', false)
    .option('--fp16', 'store embeddings as fp16', false)
    .option('--skip-zero-embedding', 'leave all-zero embeddings out', false)
    .option('--dense-only', 'distributed: export the entry only', false)
    .option('--include-graphs <names>', 'distributed: only these graphs', list)
    .option('--global-step-as-timestamp', 'name the version after the global step', false)
    .addOption(new Option('--variant <type>', 'serving input').choices(['instance', 'example', 'example_batch']).default('instance'))
    .action(async (o) => {
      await ensureTfBackend();
      const spec = await (await importModelModule(o.modelModule)).createModel(JSON.parse(o.modelOptions) as Record<string, unknown>);
      const checkpointPath = o.checkpoint ?? (await latestCheckpoint(o.modelDir));
      if (!checkpointPath) throw new ConfigError(`no checkpoint model.ckpt-<step> in ${o.modelDir}`);
      const common = {
        spec,
        exportDirBase: o.exportBase,
        params: checkpointParams(spec, o.modelDir),
        sharedEmbedding: o.sharedEmbedding,
        fp16: o.fp16,
        skipZeroEmbedding: o.skipZeroEmbedding,
        globalStepAsTimestamp: o.globalStepAsTimestamp,
        variant: o.variant,
        // The model module registers any layer classes of its own when imported.
        layerModules: [pathToFileURL(resolve(o.modelModule)).href],
      };
      const call = { checkpointPath, globalStep: getGlobalStep(checkpointPath) };
      const result =
        o.exportMode === 'standalone'
          ? { standalone: await new StandaloneExporter(common).exportSavedModel(call) }
          : await new DistributedExporter({ ...common, numPs: o.numPs, denseOnly: o.denseOnly, includeGraphs: o.includeGraphs }).exportSavedModel(call);
      for (const [graph, dir] of Object.entries(result)) process.stdout.write(`${graph}: ${dir}\n`);
    });
}
