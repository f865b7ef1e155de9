import type { Command } from 'commander';

/** Registers the `store` subcommands (none yet). */
export function registerStoreCommands(_program: Command): void {}
