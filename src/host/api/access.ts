/**
 * Who may do what: a user's effective role in a project is the best of their
 * own role and the roles they hold in the categories above it (SODAR's
 * inheritance). Superusers may do everything.
 *
 * @module
 */
import { ROLE_CONTRIBUTOR, ROLE_DELEGATE, ROLE_GUEST, ROLE_OWNER, roleByName, roleByPk } from '../constants.js';
import type { Db } from '../db/types.js';
import { forbidden, notFound } from '../errors.js';
import { ancestors, getAssignmentFor, getProject, type Project, type User } from '../repo.js';

/** The lowest (best) role rank the user holds in or above the project; Infinity for none. */
export async function effectiveRank(db: Db, user: User, project: Project): Promise<number> {
  if (user.is_superuser) return 0;
  let best = Infinity;
  for (const p of [project, ...(await ancestors(db, project))]) {
    const a = await getAssignmentFor(db, p.uuid, user.uuid);
    const rank = a ? (roleByPk(a.role_pk)?.rank ?? Infinity) : Infinity;
    best = Math.min(best, rank);
  }
  return best;
}

const rankOf = (name: string): number => roleByName(name)?.rank ?? 0;

/** Minimum role for each kind of action. */
export const NEED = {
  view: rankOf(ROLE_GUEST),
  contribute: rankOf(ROLE_CONTRIBUTOR),
  manage: rankOf(ROLE_DELEGATE),
  own: rankOf(ROLE_OWNER),
} as const;

/** The project, when the user holds at least `need` in it; else 404 (unknown) or 403. */
export async function projectFor(db: Db, user: User, uuid: string, need: number): Promise<Project> {
  const project = await getProject(db, uuid);
  if (!project) throw notFound('Project');
  if ((await effectiveRank(db, user, project)) > need) throw forbidden();
  return project;
}
