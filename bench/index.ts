/**
 * `npm run bench -- <name> [options]`: runs one benchmark. Each prints its
 * progress to stderr and, as the last line of stdout, one JSON object.
 */
const benches: Record<string, () => Promise<{ main(argv: string[]): Promise<void> }>> = {
  'zone-move': () => import('./zone-move.js'),
  'zone-create': () => import('./zone-create.js'),
  submit: () => import('./submit.js'),
  queue: () => import('./queue.js'),
  store: () => import('./store.js'),
  engine: () => import('./engine.js'),
  locks: () => import('./locks.js'),
  'site-pages': () => import('./site-pages.js'),
  irods: () => import('./irods.js'),
};

const [name, ...rest] = process.argv.slice(2);
const load = name ? benches[name] : undefined;
if (!load) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [options]\n`);
  process.exit(2);
}
await (await load()).main(rest);
