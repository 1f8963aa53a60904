#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { MonolithError } from '../errors.js';
import { getLogLevel } from '../util/log.js';
import { warmupCommand } from './warmup-commands.js';
import { datagenCommand } from './datagen-command.js';
import { demoCommand } from './demo-command.js';
import { demoFormatsCommand } from './demo-formats-command.js';
import { predictClientCommand, predictCommand, serveCommand } from './serving-commands.js';
import { exportCommand } from './export-command.js';
import { visualizeCommand } from './visualize-command.js';
import { trainCommand } from './train-command.js';
import { evalCommand } from './eval-command.js';

const program = new Command('monolith-ts')
  .description('online training and serving of recommendation models with collisionless embedding tables')
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
  .addCommand(visualizeCommand())
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });
for (const c of program.commands) c.exitOverride();

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  const msg = err instanceof MonolithError ? `${err.name}: ${err.message}` : err instanceof Error ? err.message : String(err);
  process.stderr.write(`monolith-ts: error: ${msg}\n`);
  if (getLogLevel() === 'debug' && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  process.exit(1);
}
