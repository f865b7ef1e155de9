/**
 * Store e2e tests run the compiled CLI and child scripts from dist/. This
 * checks that they are there and not older than their sources, and says how
 * to fix it otherwise (`npm test` builds first).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Repository root (tests run from it). */
export const ROOT = resolve(process.cwd());
/** The built `taskflow` command. */
export const CLI = join(ROOT, 'dist/src/cli/index.js');

function newestTs(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestTs(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Throws when a dist file is missing, or when the built store is older than its sources. */
export function requireStoreBuild(...distFiles: string[]): void {
  for (const f of distFiles) {
    if (!existsSync(join(ROOT, f))) throw new Error(`${f} is missing: build first (npx tsc -p tsconfig.build.json)`);
  }
  const built = join(ROOT, 'dist/src/store/embedded/store.js');
  const sources = Math.max(newestTs(join(ROOT, 'src/store')), statSync(join(ROOT, 'src/cli/store.ts')).mtimeMs);
  if (!existsSync(built) || statSync(built).mtimeMs + 1 < sources) {
    throw new Error('dist/ is older than src/store: build first (npx tsc -p tsconfig.build.json)');
  }
}
