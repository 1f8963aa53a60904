import { Command, Option } from 'commander';
import { ConfigError, FormatError } from '../errors.js';
import { modelSettingsPath } from '../graph/model-settings.js';
import { loadModel } from '../workers/load-model.js';
import { modelRefOf, storedRun } from './model-flags.js';
import { DistributedExporter, StandaloneExporter } from '../export/exporters.js';
import { checkpointParams, getGlobalStep, latestCheckpoint } from '../export/params-source.js';
import { ensureTfBackend } from '../serving/tf-backend.js';
import { exportedDenseGroups } from '../streams/sources/record-input.js';
import { checkOutputDir, existingDir, list, positiveInt, withMkdir } from './options.js';

export function exportCommand(): Command {
  const cmd = new Command('export')
    .description('export a model from a checkpoint directory, standalone or distributed (demo_export; training first is left to the training CLI)')
    .option('--model-module <file-or-specifier>', 'module exporting createModel(options) (default: the one stored in --model-dir by train or demo)')
    .option('--model-options <json>', 'options passed to createModel (default: the stored ones, else {})')
    .requiredOption('--model-dir <dir>', 'checkpoint directory (model.ckpt-<step>.dense/ and .assets/)', existingDir)
    .option('--checkpoint <prefix>', 'checkpoint prefix …/model.ckpt-<step> (default: the newest)')
    .requiredOption('--export-base <dir>', 'where versions are written')
    .addOption(new Option('--export-mode <mode>', 'layout').choices(['standalone', 'distributed']).default('standalone'))
    .option('--num-ps <n>', 'parameter servers (distributed)', positiveInt, 5)
    .option('--shared-embedding', 'reference the checkpoint table files instead of copying rows', false)
    .option('--fp16', 'store embeddings as fp16', false)
    .option('--skip-zero-embedding', 'leave all-zero embeddings out', false)
    .option('--dense-only', 'distributed: export the entry only', false)
    .option('--include-graphs <names>', 'distributed: only these graphs', list)
    .option('--global-step-as-timestamp', 'name the version after the global step', false)
    .addOption(new Option('--variant <type>', 'serving input').choices(['instance', 'example', 'example_batch']).default('instance'));
  return withMkdir(cmd).action(async (o) => {
      checkOutputDir(o.exportBase, '--export-base', o.mkdir);
      await ensureTfBackend();
      const { settings, input } = await storedRun(o.modelDir);
      const model = modelRefOf(o, settings, o.modelDir);
      const spec = await loadModel(model);
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
        layerModules: [model.url],
        // Requests may carry a dense group's members by name, as the training records did.
        denseGroups: exportedDenseGroups(input),
      };
      const call = { checkpointPath, globalStep: getGlobalStep(checkpointPath) };
      let result: Record<string, string>;
      try {
        result =
          o.exportMode === 'standalone'
            ? { standalone: await new StandaloneExporter(common).exportSavedModel(call) }
            : await new DistributedExporter({ ...common, numPs: o.numPs, denseOnly: o.denseOnly, includeGraphs: o.includeGraphs }).exportSavedModel(call);
      } catch (err) {
        if (err instanceof FormatError && err.field === 'floats') {
          const stored = settings ? `the model dir stores ${JSON.stringify(settings.model)}` : `${modelSettingsPath(o.modelDir)} does not exist`;
          throw new ConfigError(`the checkpoint does not fit the model built from ${model.url} with options ${JSON.stringify(model.options)}: the model options are the likely cause (${stored}): ${err.message}`, { cause: err });
        }
        throw err;
      }
      for (const [graph, dir] of Object.entries(result)) process.stdout.write(`${graph}: ${dir}\n`);
    });
}
