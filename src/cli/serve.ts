import type { Command } from 'commander';

/** Registers the `serve` subcommands (none yet). */
export function registerServeCommand(_program: Command): void {}
