#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { MonolithError } from '../errors.js';
import { getLogLevel } from '../util/log.js';
import { normalizeArgv } from './argv.js';
import { warmupCommand } from './warmup-commands.js';
import { datagenCommand } from './datagen-command.js';
import { demoCommand } from './demo-command.js';
import { demoFormatsCommand } from './demo-formats-command.js';
import { predictClientCommand, predictCommand, serveCommand } from './serving-commands.js';
import { exportCommand } from './export-command.js';
import { visualizeCommand } from './visualize-command.js';
import { trainCommand } from './train-command.js';
import { evalCommand } from './eval-command.js';

const NAME = 'monolith-ts';
const version = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

// `monolith-ts warmup decode f | head`: the reader went away; stop quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

/** Every error is one line: `monolith-ts: error: …`. */
const oneLine = (s: string) => `${NAME}: ${s.replace(/\s*\n\s*/g, ' ').trim()}\n`;

const program = new Command(NAME)
  .description('online training and serving of recommendation models with collisionless embedding tables')
  .version(version, '-V, --version', 'print the version')
  .addCommand(warmupCommand())
  .addCommand(datagenCommand())
  .addCommand(demoCommand())
  .addCommand(demoFormatsCommand())
  .addCommand(trainCommand())
  .addCommand(evalCommand())
  .addCommand(serveCommand())
  .addCommand(predictCommand())
  .addCommand(predictClientCommand())
  .addCommand(exportCommand())
  .addCommand(visualizeCommand());

let running: Command = program;
program.hook('preAction', (_this, action) => {
  running = action;
});
const configure = (c: Command): void => {
  c.exitOverride().configureOutput({
    writeErr: (s) => process.stderr.write(s),
    outputError: (s, write) => write(oneLine(s)),
  });
  c.commands.forEach(configure);
};
configure(program);

/** Option attribute names in a message (`denseFeatureTypes`) become the flags users typed (`--dense-feature-types`). */
function withFlags(message: string): string {
  let out = message;
  for (const opt of running.options) {
    const attr = opt.attributeName();
    if (opt.long && /[A-Z]/.test(attr)) out = out.replace(new RegExp(`\\b${attr}\\b`, 'g'), opt.long);
  }
  return out;
}

try {
  await program.parseAsync(normalizeArgv(process.argv.slice(2)), { from: 'user' });
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  const msg = err instanceof MonolithError ? `${err.name}: ${err.message}` : err instanceof Error ? err.message : String(err);
  process.stderr.write(oneLine(`error: ${withFlags(msg)}`));
  if (getLogLevel() === 'debug' && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  process.exit(1);
}
