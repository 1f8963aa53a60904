import { ConfigError } from '../errors.js';
import { loadExport } from '../serving/load-export.js';
import { ensureTfBackend } from '../serving/tf-backend.js';
import { parsedRowsOf } from '../streams/parse/parsed-rows.js';
import { checkRecordFile } from '../streams/sources/input-check.js';
import { recordFileBatches } from '../streams/sources/record-input-source.js';
import { checkModelInput } from '../streams/sources/record-input.js';
import { hasParseFlags, inputFromFlags } from './input-flags.js';
import { runModelDir, type ModelDirRunFlags } from './model-dir-run.js';
import { storedRun } from './model-flags.js';
import { PredictionWriter, predictionFormat } from './prediction-writer.js';

const warn = (l: string) => void process.stderr.write(`${l}\n`);

/**
 * `predict --data`: scores record files through a model dir's newest
 * checkpoint (`--model-dir`) or an export (`--saved-model-path`) and writes one
 * line per row (TSV or JSONL). An export takes the parse configuration from
 * the flags, else from the settings of `--model-dir`.
 */
export async function predictData(o: ModelDirRunFlags & { savedModelPath?: string; output?: string; format?: string }): Promise<void> {
  const format = predictionFormat(o.output, o.format);
  let writer: PredictionWriter | undefined;
  let files: Record<string, number> = {};
  try {
    if (!o.savedModelPath) {
      if (!o.modelDir) throw new ConfigError('predict --data needs --model-dir (a checkpoint) or --saved-model-path (an export)');
      let pending = Promise.resolve();
      const run = await runModelDir(
        o,
        'predict',
        (spec, input) => {
          const heads = spec.heads.map((h) => h.name);
          const opened = PredictionWriter.open(o.output, format, heads, input.parse.labelWidth ?? 1).then((w) => (writer = w));
          pending = opened.then(() => undefined);
          return (r) => {
            pending = pending.then(() => writer!.write(r.examples, r.labels, r.predictions ?? {}));
          };
        },
        true,
      );
      await pending;
      files = run.files;
    } else {
      const stored = o.modelDir ? (await storedRun(o.modelDir)).input : undefined;
      if (!stored && !hasParseFlags(o)) throw new ConfigError('predict --data with --saved-model-path: give the parse flags (--layout, --slots, …) or --model-dir to read the stored ones');
      const input = inputFromFlags(o, stored);
      await ensureTfBackend();
      const model = await loadExport(o.savedModelPath);
      try {
        checkModelInput({ name: model.manifest.modelName, features: model.manifest.features, denseInputs: model.manifest.denseInputs, heads: model.manifest.heads } as never, input, false);
        for (const file of o.data ?? []) for (const w of (await checkRecordFile(file, input)).warnings) warn(`warning: ${w}`);
        const heads = model.manifest.heads.map((h) => h.name);
        writer = await PredictionWriter.open(o.output, format, heads, input.parse.labelWidth ?? 1);
        for await (const sb of recordFileBatches({ files: o.data ?? [], input, batchSize: o.batchSize, onFileRead: (f, rows) => (files[f] = rows) })) {
          const preds = model.predictParsed(parsedRowsOf(sb.batch, model.manifest.features, model.manifest.denseInputs));
          await writer.write(sb.batch.rows, sb.batch.labels, preds);
        }
      } finally {
        model.dispose();
      }
    }
    await writer?.close();
  } catch (err) {
    await writer?.abort();
    throw err;
  }
  for (const [f, rows] of Object.entries(files)) warn(`read ${rows} rows from ${f}`);
  if (o.output && o.output !== '-') warn(`wrote ${writer?.rows ?? 0} predictions to ${o.output}`);
}
