import type { Command } from 'commander';

/** Registers the `manage` subcommands (none yet). */
export function registerManageCommands(_program: Command): void {}
