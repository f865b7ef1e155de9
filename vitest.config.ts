import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// End-to-end tests start real processes (service, site, Redis clients), so the
// timeouts are generous and files run in forked processes, not threads:
// better-sqlite3 and child-process handling are simplest with one process per file.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // Worker threads started from TypeScript sources (src/worker-module.ts)
    // run in plain Node, outside vitest's compiler: this loader, inherited by
    // every worker thread, lets Node run them.
    execArgv: ['--import', fileURLToPath(new URL('./test/support/ts-loader.mjs', import.meta.url))],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
