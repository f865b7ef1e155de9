/**
 * `generalAdmin add resource` and `rm resource` (`iadmin mkresc`, `rmresc`;
 * python-irodsclient 0.8.1 `resources.create` / `remove`) over the store's
 * resources (`src/store/embedded/resources.ts`), with the arguments as
 * iRODS 4.3.5 `rsGeneralAdmin` `_addResource` reads them: `arg2` the name,
 * `arg3` the type, `arg4` `HOST:PATH`, `arg5` the context, `arg6` the zone;
 * `rm resource NAME --dryrun` checks without removing.
 *
 * What the store can honour, it does; what it cannot, it refuses:
 * - only `unixfilesystem`: a folder of files is what the store keeps
 *   (`SYS_NOT_SUPPORTED` for any other type: no hierarchies, no plugins);
 * - the host must name this machine (`CAT_INVALID_RESOURCE_NET_ADDR`
 *   otherwise): the store keeps bytes nowhere else;
 * - the vault folder is the store's to choose, inside its data folder:
 *   the PATH asked for is not used (no client may make the server write
 *   where it names), and `R_VAULT_PATH` answers the folder actually used.
 *
 * @module
 */
import { hostname } from 'node:os';
import { DEFAULT_RESOURCE } from '../../store/embedded/resources.js';
import type { ApiContext } from '../server/api.js';
import { IrodsError } from '../wire/irods-error.js';
import { notAllowed, storeCall } from './store-errors.js';

/** The one resource type served (iRODS's plugin name). */
const SERVED_TYPE = 'unixfilesystem';

/** Host names that name this machine. */
function localHosts(): Set<string> {
  const h = hostname();
  return new Set(['localhost', '127.0.0.1', h, h.split('.')[0]!]);
}

/** Makes resource `name` of `type` at `location` (`HOST:PATH`, or empty). */
export async function addResource(ctx: ApiContext, name: string, type: string, location: string, context: string, zone: string): Promise<void> {
  if (name === '' || type === '') throw new IrodsError('CAT_INVALID_ARGUMENT', 'add resource needs a name and a type');
  if (type !== SERVED_TYPE) {
    throw new IrodsError('SYS_NOT_SUPPORTED', `resource type ${JSON.stringify(type.slice(0, 60))} is not served: this store makes ${SERVED_TYPE} resources only`);
  }
  if (zone !== '' && zone !== ctx.store.zone) throw new IrodsError('CAT_INVALID_ZONE', `this store holds zone ${ctx.store.zone}, not ${zone.slice(0, 60)}`);
  const colon = location.indexOf(':');
  const host = colon === -1 ? location : location.slice(0, colon);
  const asked = colon === -1 ? '' : location.slice(colon + 1);
  const served = localHosts();
  if (host !== '' && !served.has(host)) {
    throw new IrodsError(
      'CAT_INVALID_RESOURCE_NET_ADDR',
      `resource host ${JSON.stringify(host.slice(0, 100))} is not this machine (${[...served].join(', ')}): this store keeps bytes only here`,
    );
  }
  await storeCall(() => ctx.store.addResource(name, host === '' ? hostname() : host, context), {
    INVALID_PATH: 'CAT_INVALID_ARGUMENT',
    ALREADY_EXISTS: 'CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME',
  });
  ctx.log.info({ name, host, askedPath: asked }, 'resource created (its vault folder is in the data folder, not the path asked for)');
}

/** Removes resource `name`, or with `mode` `--dryrun` checks that it could be. */
export async function removeResource(ctx: ApiContext, name: string, mode: string): Promise<void> {
  if (name === '') throw new IrodsError('CAT_INVALID_ARGUMENT', 'rm resource needs a name');
  if (mode !== '' && mode !== '--dryrun') throw new IrodsError('CAT_INVALID_ARGUMENT', `unknown option ${JSON.stringify(mode.slice(0, 40))} of rm resource (--dryrun)`);
  if (name === DEFAULT_RESOURCE) throw notAllowed(`${DEFAULT_RESOURCE} is the store vault; it is not removed`);
  const dryRun = mode === '--dryrun';
  await storeCall(() => ctx.store.removeResource(name, dryRun), { NOT_FOUND: 'SYS_RESC_DOES_NOT_EXIST', NOT_ALLOWED: 'CAT_RESOURCE_NOT_EMPTY' });
  if (!dryRun) ctx.log.info({ name }, 'resource removed');
}
