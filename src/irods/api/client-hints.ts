/**
 * CLIENT_HINTS_AN 10215: what a client may count on from this server, as
 * JSON text in a `BytesBuf_PI` (python-irodsclient 3.3.0
 * `session.client_hints`; `ihelp`-style tools). Facts from iRODS 4.2.12
 * `server/api/src/rsClientHints.cpp` and `rsIESClientHints.cpp`,
 * `lib/api/include/apiTable.hpp` (no input, output `BytesBuf_PI`, any
 * logged-in user):
 * - `specific_queries`: the aliases the specific query `ls` lists, run as
 *   the asking user (nothing when `ls` is gone or fails);
 * - `strict_acls`: the ACL policy's setting, `on` here: this server answers
 *   as iRODS's default `core.re` makes a server (`msiAclPolicy("STRICT")`);
 * - `hash_scheme`: the default hash scheme, `MD5` here (the catalog keeps
 *   MD5 checksums), and `match_hash_policy`, iRODS's default `compatible`;
 * - `plugins`: the plugins loaded, by the names iRODS gives their library
 *   files (`irods_plugin_name_generator.cpp`: without `lib` and `.so`;
 *   the targets of 4.2.12 `plugins/*\/CMakeLists.txt`), each with empty
 *   `version` and `checksum_sha256` as iRODS reports them. Listed is what
 *   this server does: the unixfilesystem resource, native authentication,
 *   TCP and TLS, and the API plugins it serves. No database plugin: the
 *   catalog is SQLite, which no iRODS plugin is, and a client choosing SQL
 *   by it would be misled;
 * - `rules`: the rules the rule engines hold: none, as there is no rule engine.
 * The text is nlohmann's `dump(4)`: keys in order, four-space indents.
 *
 * @module
 */
import type { ApiContext, ApiRoute } from '../server/api.js';
import { NOTHING } from '../server/api-inputs.js';
import type { PiMessage } from '../wire/pi-values.js';
// a cycle only at run time: the table is read when a client asks, long after both modules are loaded
import { apiTable } from './index.js';

/** iRODS 4.2.12 `lib/api/include/apiNumber.h`. */
export const CLIENT_HINTS_AN = 10215;

/** Rows the `ls` query is asked for (iRODS 4.2.12 `MAX_SQL_ROWS`). */
const MAX_SQL_ROWS = 256;

/**
 * The library target of each API plugin served here: iRODS 4.2.12 names an
 * API plugin's number `<NAME>_APN` and its library `irods_<name>`
 * (`plugins/api/CMakeLists.txt`: `irods_touch` serves `TOUCH_APN`).
 */
function apiPluginTargets(): string[] {
  return [...apiTable().values()]
    .filter((route) => route.name.endsWith('_APN'))
    .map((route) => `irods_${route.name.slice(0, -'_APN'.length).toLowerCase()}`)
    .sort();
}

/** One entry of `plugins`. */
function plugin(name: string, type: string): Record<string, string> {
  return { name, type, version: '', checksum_sha256: '' };
}

/** The `plugins` array: resource, authentication, network and API plugins, as iRODS lists them by type. */
function plugins(): Array<Record<string, string>> {
  const sides = (base: string, type: string) => [plugin(`${base}_client`, type), plugin(`${base}_server`, type)];
  return [
    plugin('unixfilesystem', 'resource'),
    ...sides('native', 'authentication'),
    ...sides('ssl', 'network'),
    ...sides('tcp', 'network'),
    ...apiPluginTargets().flatMap((base) => sides(base, 'api')),
  ];
}

/** The aliases `ls` lists for the asking user; none when it is not there or fails, as iRODS logs and goes on. */
async function specificQueryAliases(ctx: ApiContext): Promise<string[]> {
  const sql = ctx.store.findSpecificQuery('ls');
  if (sql === null) return [];
  try {
    const { rows } = await ctx.specificQueries.run(sql, [], 0, MAX_SQL_ROWS);
    return rows.map((r) => r[0] ?? '');
  } catch {
    return [];
  }
}

/** The hints, as the text iRODS sends. */
export async function clientHints(ctx: ApiContext): Promise<PiMessage> {
  const hints = {
    hash_scheme: 'MD5',
    match_hash_policy: 'compatible',
    plugins: plugins(),
    rules: [],
    specific_queries: await specificQueryAliases(ctx),
    strict_acls: 'on',
  };
  const text = JSON.stringify(hints, null, 4);
  return { name: 'BytesBuf_PI', fields: { buflen: Buffer.byteLength(text, 'utf8'), buf: text } };
}

/** The routes of this module. */
export const clientHintsRoutes: ApiRoute[] = [{ api: CLIENT_HINTS_AN, name: 'CLIENT_HINTS_AN', inputs: NOTHING, handle: async (_req, ctx) => ({ status: 0, body: await clientHints(ctx) }) }];
