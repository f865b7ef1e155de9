import type { Command } from 'commander';

/** Registers the `runs` subcommands (none yet). */
export function registerRunsCommands(_program: Command): void {}
