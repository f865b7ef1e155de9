/**
 * Which file a worker thread starts: the compiled module beside compiled
 * code, the TypeScript source beside code that runs from its sources.
 */
import { describe, expect, it } from 'vitest';
import { workerModule } from '../src/worker-module.js';

describe('workerModule', () => {
  it('keeps the .js URL for a compiled importer', () => {
    const importer = 'file:///app/dist/src/store/embedded/hash-pool.js';
    expect(workerModule(new URL('./hash-worker.js', importer), importer).href).toBe('file:///app/dist/src/store/embedded/hash-worker.js');
  });

  it('takes the .ts source for an importer that runs from TypeScript', () => {
    const importer = 'file:///app/src/store/embedded/hash-pool.ts';
    expect(workerModule(new URL('./hash-worker.js', importer), importer).href).toBe('file:///app/src/store/embedded/hash-worker.ts');
  });

  it('under the tests, this very file runs from its source', () => {
    expect(workerModule(new URL('./x.js', import.meta.url), import.meta.url).pathname).toMatch(/\/test\/x\.ts$/);
  });
});
