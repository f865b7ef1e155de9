#!/usr/bin/env node
/**
 * The `taskflow` command. Each area registers its own subcommands from the
 * module beside this one, so this file only wires them together.
 */
import { Command } from 'commander';
import { endOnClosedStdout } from './process.js';

type Register = (program: Command) => void;

/**
 * Subcommand name → loader of the module that registers it. Loading lazily
 * keeps `taskflow store ls` from paying for the service, the site and their
 * native modules: tests call the store command hundreds of times.
 */
const commandModules: Record<string, () => Promise<Register>> = {
  store: async () => (await import('./store.js')).registerStoreCommands,
  serve: async () => (await import('./serve.js')).registerServeCommand,
  runs: async () => (await import('./runs.js')).registerRunsCommands,
  queue: async () => (await import('./runs.js')).registerQueueCommand,
  site: async () => (await import('./site.js')).registerSiteCommand,
  manage: async () => (await import('./manage.js')).registerManageCommands,
  start: async () => (await import('./start.js')).registerStartCommand,
  demo: async () => (await import('./demo.js')).registerDemoCommand,
};

/**
 * Builds the command tree: only the named subcommand's module when `argv`
 * names a known one, else every module (for help and error messages).
 */
export async function buildProgram(argv: readonly string[] = process.argv): Promise<Command> {
  const program = new Command('taskflow')
    .description('SODAR Taskflow: all-or-nothing data transactions for SODAR-like sites')
    .showHelpAfterError();
  const named = argv[2];
  const wanted = named !== undefined && named in commandModules ? [named] : Object.keys(commandModules);
  for (const name of wanted) (await commandModules[name]())(program);
  return program;
}

endOnClosedStdout();
try {
  await (await buildProgram()).parseAsync(process.argv);
} catch (err: unknown) {
  process.stderr.write(`taskflow: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
