// Registers test/support/ts-hooks.mjs: vitest.config.ts passes this file to
// each test process with --import, and worker threads inherit it, so a
// worker started from a TypeScript source (src/worker-module.ts) can run.
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
