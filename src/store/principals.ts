/**
 * The principals iRODS itself keeps: its admin and service accounts and the
 * public group (protocol.md, cleanup's list of permanent users). They are
 * never a project's user: a flow naming one would change the access of the
 * store's own accounts.
 *
 * @module
 */

/** iRODS's own users and groups: `rods` (also this store's admin), `rodsadmin`, `public`, `client_user`. */
export const SYSTEM_PRINCIPALS: readonly string[] = ['client_user', 'rods', 'rodsadmin', 'public'];

/** Whether `name` is one of {@link SYSTEM_PRINCIPALS}. */
export function isSystemPrincipal(name: string): boolean {
  return SYSTEM_PRINCIPALS.includes(name);
}
