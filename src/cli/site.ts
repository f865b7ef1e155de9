import type { Command } from 'commander';

/** Registers the `site` subcommands (none yet). */
export function registerSiteCommand(_program: Command): void {}
