import type { Command } from 'commander';

/** Registers the `start` subcommands (none yet). */
export function registerStartCommand(_program: Command): void {}
