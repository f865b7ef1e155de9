import type { Command } from 'commander';

/** Registers the `demo` subcommands (none yet). */
export function registerDemoCommand(_program: Command): void {}
