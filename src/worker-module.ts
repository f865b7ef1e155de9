/**
 * Where a worker thread's entry module is. Our workers are ordinary modules
 * of this package, started by URL; the one question is which file: built
 * code (dist/) starts the compiled `.js` beside it, while code that runs from
 * its TypeScript sources (the tests: vitest compiles `src/` on the fly, and
 * nothing is ever compiled next to a `.ts` file) starts the `.ts` source
 * beside it. A worker thread is a plain Node thread that vitest's compiler
 * never sees, so the tests give Node a loader for `.ts` files
 * (test/support/ts-loader.mjs, passed by vitest.config.ts and inherited by
 * every worker thread).
 *
 * @module
 */

/**
 * The worker module `built` (written `new URL('./x-worker.js',
 * import.meta.url)`) as the importer `importerUrl` (its `import.meta.url`)
 * runs: that URL when the importer is compiled JavaScript, its `.ts` source
 * when the importer itself runs from a `.ts` file. Decided by the importer's
 * own extension, not by which files exist, so a stray compiled file next to
 * the sources is never picked up.
 */
export function workerModule(built: URL, importerUrl: string): URL {
  if (!new URL(importerUrl).pathname.endsWith('.ts')) return built;
  return new URL(built.href.replace(/\.js$/, '.ts'));
}
