// Node module hooks that run this package's TypeScript sources in a plain
// Node thread, for worker threads started by tests (see src/worker-module.ts).
// vitest compiles the test files and everything they import itself; these
// hooks see only what Node loads natively. Types are erased by the TypeScript
// compiler (a devDependency) one module at a time, with no type check
// (`npx tsc --noEmit` checks the same files).
//
// Loading the compiler takes about a second of CPU, and every worker thread
// loads its hooks afresh: so each compiled module is kept in
// node_modules/.cache under a hash of its URL and source, and the compiler
// is loaded only for a source not compiled before.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { threadId } from 'node:worker_threads';

const CACHE = new URL('../../node_modules/.cache/taskflow-ts-hooks/', import.meta.url);
const COMPILER_OPTIONS = { module: 'esnext', target: 'es2022', inlineSourceMap: true, inlineSources: true };

/** @type {import('typescript') | undefined} */
let ts;

// A `.js` import from a `.ts` file names the file it compiles to: take the
// `.ts` source when there is no such `.js` (TypeScript's NodeNext rule).
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (err) {
    const fromTs = context.parentURL?.startsWith('file:') && context.parentURL.endsWith('.ts');
    if (!fromTs || err?.code !== 'ERR_MODULE_NOT_FOUND' || !/^\.\.?\//.test(specifier) || !specifier.endsWith('.js')) throw err;
    return next(specifier.replace(/\.js$/, '.ts'), context);
  }
}

export async function load(url, context, next) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return next(url, context);
  return { format: 'module', source: await compiled(url, await readFile(new URL(url), 'utf8')), shortCircuit: true };
}

async function compiled(url, source) {
  const key = createHash('sha256').update(JSON.stringify([url, COMPILER_OPTIONS, source])).digest('hex');
  const file = new URL(`${key}.js`, CACHE);
  try {
    return await readFile(file, 'utf8');
  } catch {
    // not compiled yet
  }
  ts ??= (await import('typescript')).default;
  const { options } = ts.convertCompilerOptionsFromJson(COMPILER_OPTIONS, '.');
  const out = ts.transpileModule(source, { fileName: new URL(url).pathname, compilerOptions: options }).outputText;
  // written whole, then renamed into place: threads that compile the same source at once race harmlessly
  await mkdir(CACHE, { recursive: true });
  const tmp = new URL(`${key}.${process.pid}-${threadId}.tmp`, CACHE);
  await writeFile(tmp, out);
  await rename(tmp, file);
  return out;
}
