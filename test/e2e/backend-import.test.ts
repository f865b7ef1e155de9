/**
 * `sodar-taskflow/backend` as a host app loads it: the built package in a
 * fresh Node process, through the package's own exports map.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const entry = join(root, 'dist/src/backend/index.js');

/** Runs an ES module snippet in a fresh node with `env` added; resolves with its output and exit code. */
async function node(code: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', code], {
      cwd: root,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(() => {
  if (!existsSync(entry)) throw new Error(`${entry} is missing: build first (npx tsc -p tsconfig.build.json)`);
});

describe('importing sodar-taskflow/backend', () => {
  it('loads no native module and no package from node_modules', async () => {
    const out = await node(`
      import { createRequire } from 'node:module';
      const dlopened = [];
      const dlopen = process.dlopen;
      process.dlopen = (mod, file, ...rest) => { dlopened.push(file); return dlopen.call(process, mod, file, ...rest); };
      const m = await import('sodar-taskflow/backend');
      const api = new m.TaskflowAPI();
      const cjs = Object.keys(createRequire(import.meta.url).cache);
      const shared = process.report.getReport().sharedObjects.filter((f) => f.endsWith('.node'));
      console.log(JSON.stringify({ exports: Object.keys(m).sort(), url: api.url, dlopened, cjs, shared }));
    `);
    expect(out.stderr).toBe('');
    const result = JSON.parse(out.stdout) as { exports: string[]; url: string; dlopened: string[]; cjs: string[]; shared: string[] };
    expect(result.url).toBe('http://0.0.0.0:5005');
    expect(result.dlopened).toEqual([]);
    expect(result.shared).toEqual([]);
    expect(result.cjs.filter((p) => /better-sqlite3|ioredis|fastify|node_modules/.test(p))).toEqual([]);
    expect(result.exports).toEqual(
      expect.arrayContaining(['TaskflowAPI', 'FlowSubmitException', 'CleanupException', 'ImproperlyConfigured', 'loadBackendSettings', 'ConfigError']),
    );
  });

  it('imports only Node built-ins and the settings module, statically', () => {
    // Walk the built import graph from the entry: every specifier must be a
    // node: built-in or a relative file inside dist/src/backend or config.js.
    const seen = new Set<string>();
    const queue = [entry];
    const outside: string[] = [];
    while (queue.length > 0) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
        const spec = match[1] ?? match[2];
        if (spec.startsWith('node:')) continue;
        if (!spec.startsWith('.')) {
          outside.push(`${file}: ${spec}`);
          continue;
        }
        queue.push(resolve(dirname(file), spec));
      }
    }
    expect(outside).toEqual([]);
    const files = [...seen].map((f) => f.slice(root.length + 1)).sort();
    expect(files.every((f) => f.startsWith('dist/src/backend/') || f === 'dist/src/config.js')).toBe(true);
  });

  it('fails at construction naming a bad setting', async () => {
    const out = await node(
      `const m = await import('sodar-taskflow/backend'); new m.TaskflowAPI();`,
      { TASKFLOW_BACKEND_PORT: 'abc' },
    );
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/ConfigError: Invalid setting TASKFLOW_BACKEND_PORT: expected an integer, got "abc"/);
  });
});
