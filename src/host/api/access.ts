/**
 * Who may do what: the one place for the site's permission rules. A user's
 * effective role in a project is the best of their own role there, the owner
 * role of a category above it (only ownership is inherited: SODAR Core
 * v0.10.12 `Project.is_owner`; a category's delegates, contributors and
 * guests have no role in its projects, and the store gives them no access
 * there either) and guest where the project allows public guest access
 * (`is_project_guest`); superusers may do everything.
 *
 * The rules follow SODAR Core v0.10.12 (`projectroles/rules.py`,
 * `serializers.py`, `views_api.py`) and sodar-server v0.13.4
 * (`landingzones/rules.py`, `views_api.py`):
 * - updating a project: owner or delegate (`update_project`);
 * - managing contributors and guests: owner or delegate (`update_project_members`);
 * - granting, changing to or from, or removing the delegate role: owner only
 *   (`update_project_delegate`); the owner role changes only by owner transfer;
 * - transferring ownership: owner only (`update_project_owner`), and only to
 *   a member: a user with a role of their own in it, or the owner of a
 *   category above it (`RoleAssignmentOwnerTransferForm.clean_new_owner`);
 * - creating in a category: owner, delegate or contributor of it
 *   (`create_project`); a top-level category: superusers only, on create and
 *   on update;
 * - landing zones: contributors see and change their own, owners and
 *   delegates every zone (`view_zone_own`, `view_zone_all`); guests none.
 * Stricter than SODAR Core v0.10.12, where a delegate could move a project:
 * changing a parent needs the owner, so a delegate cannot carry a project into
 * a category they own and so become its inherited owner.
 *
 * Every refusal is a 403 whose message says who may do it, except where the
 * user may not view the project or category at all: that one is the bare 403
 * that retrieving it answers, which names nothing.
 *
 * @module
 */
import {
  OWNER_ROLE_PK,
  PROJECT_TYPE_CATEGORY,
  ROLE_CONTRIBUTOR,
  ROLE_DELEGATE,
  ROLE_GUEST,
  ROLE_OWNER,
  roleByName,
  roleByPk,
} from '../constants.js';
import type { Db } from '../db/types.js';
import { HttpError, badRequest, forbidden, notFound } from '../errors.js';
import { assertCategory } from '../projects/repository.js';
import { ancestors, getAssignmentFor, getOwner, getProject, getUser, inheritedOwners, listAssignments, type Project, type User, type Zone } from '../repo.js';

const rankOf = (name: string): number => roleByName(name)?.rank ?? 0;

/** The lowest (best) role rank the user holds in the project (see the module's rules); Infinity for none. */
export async function effectiveRank(db: Db, user: User, project: Project): Promise<number> {
  if (user.is_superuser) return 0;
  const own = await getAssignmentFor(db, project.uuid, user.uuid);
  let best = own ? (roleByPk(own.role_pk)?.rank ?? Infinity) : Infinity;
  if (project.public_guest_access) best = Math.min(best, rankOf(ROLE_GUEST));
  if (best <= rankOf(ROLE_OWNER)) return best;
  for (const p of await ancestors(db, project)) {
    if ((await getAssignmentFor(db, p.uuid, user.uuid))?.role_pk === OWNER_ROLE_PK) return rankOf(ROLE_OWNER);
  }
  return best;
}

/** Minimum role for each kind of action. */
export const NEED = {
  view: rankOf(ROLE_GUEST),
  contribute: rankOf(ROLE_CONTRIBUTOR),
  manage: rankOf(ROLE_DELEGATE),
  own: rankOf(ROLE_OWNER),
} as const;

/** `project "Proj"` or `category "Cat"`, as the messages name it. */
export function named(project: Project): string {
  return `${project.type.toLowerCase()} "${project.title}"`;
}

/** Who may act, by the least role needed, for the refusal messages. */
function whoMay(project: Project, need: number): string {
  if (need <= NEED.own) return `the owner of ${named(project)} or a superuser`;
  if (need <= NEED.manage) return `the owner or a delegate of ${named(project)} or a superuser`;
  return `members of ${named(project)} with the role of project contributor or above, or a superuser`;
}

/** Throws a 403 saying `Only <who> may <what>` unless the user holds at least `need` in the project. */
async function requireRank(db: Db, user: User, project: Project, need: number, what: string): Promise<void> {
  if ((await effectiveRank(db, user, project)) > need) throw forbidden(`Only ${whoMay(project, need)} may ${what}`);
}

/** The project, when the user holds at least `need` in it; else 404 (unknown) or 403. */
export async function projectFor(db: Db, user: User, uuid: string, need: number): Promise<Project> {
  const project = await getProject(db, uuid);
  if (!project) throw notFound('Project');
  if ((await effectiveRank(db, user, project)) > need) throw forbidden();
  return project;
}

/**
 * Whether the user may create a project or category under `parent` (null:
 * at the top level, superusers only). The same rule decides where a project
 * may be moved to. A parent the user may not view is refused with the bare
 * 403 that retrieving it gets, before its type is checked: naming it, or
 * saying it is no category, would tell an outsider what retrieve keeps from them.
 */
export async function assertMayCreateIn(db: Db, user: User, parent: Project | null, creating: boolean): Promise<void> {
  if (parent === null) {
    if (!user.is_superuser) throw forbidden(creating ? 'Only superusers may create top level categories' : 'Only superusers may place a category at the top level');
    return;
  }
  const rank = await effectiveRank(db, user, parent);
  if (rank > NEED.view) throw forbidden();
  assertCategory(parent);
  if (rank > NEED.contribute) {
    throw forbidden(`You may not create projects in ${named(parent)}: that needs the role of project contributor or above in it`);
  }
}

/** Updating a project's fields: owner or delegate. */
export async function assertMayUpdate(db: Db, user: User, project: Project): Promise<void> {
  await requireRank(db, user, project, NEED.manage, `update ${named(project)}`);
}

/**
 * Moving a project or category to parent `targetUuid` (null: the top level,
 * superusers only): owner rights on it, checked before the target is
 * resolved (so a refusal tells nothing about whether the target exists),
 * then the right to create in the target. Returns the target.
 */
export async function assertMayMoveTo(
  db: Db,
  user: User,
  project: Project,
  targetUuid: string | null,
  resolveTarget: () => Promise<Project | null>,
): Promise<Project | null> {
  if (targetUuid !== null) await requireRank(db, user, project, NEED.own, 'move it to another category');
  const target = await resolveTarget();
  await assertMayCreateIn(db, user, target, false);
  return target;
}

/** Transferring ownership: owner only. */
export async function assertMayTransferOwner(db: Db, user: User, project: Project): Promise<void> {
  await requireRank(db, user, project, NEED.own, 'transfer its ownership');
}

/**
 * An owner transfer to a user who is not a member of the project: a 400, as
 * in SODAR Core, whose form refuses them and whose API says they are not a
 * member. Without this rule the transfer made an outsider owner outright.
 */
export class NotAMemberError extends HttpError {
  constructor(
    /** The user name asked for as the new owner. */
    readonly username: string,
    project: Project,
  ) {
    super(400, `User "${username}" is not a member of ${named(project)}: only its members can become its owner`);
  }
}

/**
 * Who may become the owner of `project`, by user name: its members with a
 * role of their own in it and the owners of the categories above it, the
 * current owner left out (SODAR Core v0.10.12: the ownership form offers the
 * project's users, those inherited owners included, without the current
 * owner). A guest only by public guest access is no member. The ownership
 * form offers exactly these and {@link assertMayBecomeOwner} takes no one else.
 */
export async function ownerCandidates(db: Db, project: Project): Promise<User[]> {
  const owner = await getOwner(db, project.uuid);
  const found = new Map<string, User>();
  for (const a of await listAssignments(db, project.uuid)) {
    const u = a.user_uuid === owner?.user_uuid ? undefined : await getUser(db, a.user_uuid);
    if (u) found.set(u.uuid, u);
  }
  for (const u of await inheritedOwners(db, project)) if (u.uuid !== owner?.user_uuid) found.set(u.uuid, u);
  return [...found.values()].sort((a, b) => a.username.localeCompare(b.username));
}

/** Throws {@link NotAMemberError} unless `newOwner` is one of the {@link ownerCandidates} of `project`. */
export async function assertMayBecomeOwner(db: Db, project: Project, newOwner: User): Promise<void> {
  if (!(await ownerCandidates(db, project)).some((u) => u.uuid === newOwner.uuid)) throw new NotAMemberError(newOwner.username, project);
}

/**
 * Changing a member's role from `fromPk` (undefined: no role yet) to `toPk`
 * (undefined: removed). Contributors and guests: owner or delegate; anything
 * touching the delegate role: owner; the owner's own role: owner (who is
 * then told to use owner transfer).
 */
export async function assertMayChangeRole(db: Db, user: User, project: Project, fromPk: number | undefined, toPk: number | undefined): Promise<void> {
  const touches = (pk: number): boolean => fromPk === pk || toPk === pk;
  if (touches(OWNER_ROLE_PK)) {
    await requireRank(db, user, project, NEED.own, 'change the owner, by owner transfer');
    return;
  }
  if (touches(roleByName(ROLE_DELEGATE)?.pk ?? -1)) {
    await requireRank(db, user, project, NEED.own, 'grant, change or remove the delegate role');
    return;
  }
  await requireRank(db, user, project, NEED.manage, 'manage its members');
}

/** Which zones of a project a user sees: every zone, or only their own. */
export type ZoneScope = 'all' | 'own';

/** The zones the user may see in `project`; guests and outsiders see none (403). */
export async function zoneScope(db: Db, user: User, project: Project): Promise<ZoneScope> {
  const rank = await effectiveRank(db, user, project);
  if (rank <= NEED.manage) return 'all';
  if (rank <= NEED.contribute) return 'own';
  if (rank <= NEED.view) throw forbidden(`Landing zones of ${named(project)} are for its contributors, delegates and owner: guests see none`);
  throw forbidden();
}

/** Whether the user may see and change `zone` of `project` (their own, or all of them); 403 otherwise. */
export async function assertZoneAccess(db: Db, user: User, project: Project, zone: Zone): Promise<void> {
  const scope = await zoneScope(db, user, project);
  if (scope === 'own' && zone.user_uuid !== user.uuid) {
    throw forbidden(`Only ${whoMay(project, NEED.manage)} may see or change landing zones of other users`);
  }
}

/**
 * Whether the owner of a zone may still reach it: a contributor or above.
 * When their role is removed or lowered to guest, the zone stays for the
 * owner and delegates to move or delete (as SODAR leaves it; sodar-server
 * issue #1581, closed January 2023, marks such zones in its list); the pages say so.
 */
export async function zoneOwnerMayReach(db: Db, owner: User | undefined, project: Project): Promise<boolean> {
  return owner !== undefined && (await effectiveRank(db, owner, project)) <= NEED.contribute;
}

/** Operator views and actions (the service's runs and locks): superusers only. */
export function assertSuperuser(user: User, what: string): void {
  if (!user.is_superuser) throw forbidden(`Only superusers may ${what}`);
}
