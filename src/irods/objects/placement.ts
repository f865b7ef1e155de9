/**
 * Which resource a write's bytes go to (`src/store/embedded/resources.ts`),
 * as an iRODS server places them with one replica per object: an existing
 * object's new bytes stay on its resource; a new object goes to the
 * resource the client names (`rescName`, `destRescName` or
 * `backupRescName`; python-irodsclient 0.8.1 sends its session's default
 * resource in `destRescName`), else to its default resource `defRescName`
 * when that exists (iCommands send their environment's
 * `irods_default_resource` there), else to the store vault: what iRODS
 * 4.2.12's default rule `msiSetDefaultResc("demoResc","null")` picks
 * (`irods_resource_backport.cpp` `set_default_resource`: the live one the
 * keywords name, else the rule's default).
 *
 * @module
 */
import { DEFAULT_RESOURCE, resourceExists, resourceOfVaultId } from '../../store/embedded/resources.js';
import type { ApiContext } from '../server/api.js';
import { IrodsError } from '../wire/irods-error.js';
import { KW } from './requests.js';

/**
 * The resource for bytes written to an object whose vault id is
 * `existingVaultId` (null: a new object), given the request's keywords;
 * undefined for the store vault. `SYS_RESC_DOES_NOT_EXIST` for a named
 * resource that is not there. Call inside the request's read transaction.
 */
export function resourceForWrite(ctx: ApiContext, existingVaultId: string | null, keywords: ReadonlyMap<string, string>): string | undefined {
  const core = ctx.store.protocolCore();
  const name = existingVaultId !== null ? resourceOfVaultId(existingVaultId) : namedResource(keywords);
  if (name === '') {
    // none named: the client's default resource (`defRescName`, trimmed as 4.2.12 trims it) when it exists, else the store vault
    const fallback = keywords.get(KW.defResc)?.trim();
    return fallback && fallback !== DEFAULT_RESOURCE && resourceExists(core, fallback) ? fallback : undefined;
  }
  if (name === DEFAULT_RESOURCE) return undefined;
  if (!resourceExists(core, name)) throw new IrodsError('SYS_RESC_DOES_NOT_EXIST', `no resource ${JSON.stringify(name.slice(0, 100))} (iadmin lr lists them)`);
  return name;
}

/**
 * The resource a new object's request names: of `rescName`, `destRescName`
 * and `backupRescName`, the last one present wins, even when empty (then
 * none is named), as iRODS 4.2.12 `irods_resource_redirect.cpp`
 * `get_keyword_from_inp` reads them.
 */
function namedResource(keywords: ReadonlyMap<string, string>): string {
  let name = '';
  for (const kw of [KW.rescName, KW.destResc, KW.backupResc]) name = keywords.get(kw) ?? name;
  return name;
}
