/**
 * Child process for the store concurrency test: `DATA ZONE NAME COUNT`.
 * Opens the store, prints `READY`, waits for a line on stdin, then writes
 * COUNT objects with metadata and ACLs into its own and a shared collection,
 * creates users, moves its objects, and prints `DONE`.
 */
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { EmbeddedStore } from '../../src/store/embedded/store.js';

const [dataDir, zone, name, countArg] = process.argv.slice(2);
const count = Number(countArg);
const store = EmbeddedStore.open({ dataDir, zone });
const root = `/${zone}`;
process.stdout.write('READY\n');
await once(process.stdin, 'data');

await store.createCollection(`${root}/shared/deep`, { parents: true });
await store.createCollection(`${root}/${name}`);
await store.createCollection(`${root}/${name}-moved`);
await store.createPrincipal(`${name}-group`, 'rodsgroup');
for (let i = 0; i < count; i++) {
  const path = `${root}/${name}/f${i}`;
  await store.putObject(path, Readable.from([`${name} ${i}\n`.repeat(100)]));
  await store.modifyMetadata(path, 'add', { attribute: 'writer', value: name, unit: '' });
  await store.setAccess(path, 'public', 'read');
  await store.putObject(`${root}/shared/deep/${name}-${i}`, Readable.from([`${name} ${i}`]));
  await store.createPrincipal(`${name}-u${i}`, 'rodsuser');
  await store.addGroupMember(`${name}-group`, `${name}-u${i}`);
}
const paths = await store.listObjectPaths(`${root}/${name}`);
await store.moveMany(paths.map((p) => ({ src: p, dst: p.replace(`/${name}/`, `/${name}-moved/`) })));
await store.close();
process.stdout.write('DONE\n');
process.exit(0);
