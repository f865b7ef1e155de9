#!/usr/bin/env node
/**
 * The `taskflow` command. Each area registers its own subcommands from the
 * module beside this one, so this file only wires them together.
 */
import { Command } from 'commander';
import { registerStoreCommands } from './store.js';
import { registerServeCommand } from './serve.js';
import { registerRunsCommands } from './runs.js';
import { registerSiteCommand } from './site.js';
import { registerManageCommands } from './manage.js';
import { registerStartCommand } from './start.js';
import { registerDemoCommand } from './demo.js';

/** Builds the whole command tree (exported for tests). */
export function buildProgram(): Command {
  const program = new Command('taskflow')
    .description('SODAR Taskflow: all-or-nothing data transactions for SODAR-like sites')
    .showHelpAfterError();
  registerStoreCommands(program);
  registerServeCommand(program);
  registerRunsCommands(program);
  registerSiteCommand(program);
  registerManageCommands(program);
  registerStartCommand(program);
  registerDemoCommand(program);
  return program;
}

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(`taskflow: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
