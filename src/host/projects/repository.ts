/**
 * Projects and categories.
 *
 * @module
 */
import { PROJECT_TYPE_CATEGORY, PROJECT_TYPE_PROJECT, type ProjectType } from '../constants.js';
import { first, fromBool, toBool, type Stored } from '../db/rows.js';
import type { Db } from '../db/types.js';
import { HttpError } from '../errors.js';
import { deleteSheetRows } from '../sheets/repository.js';

/** A project or category. */
export interface Project {
  uuid: string;
  type: ProjectType;
  parent_uuid: string | null;
  title: string;
  description: string;
  readme: string;
  public_guest_access: boolean;
}

/** Whether `p` is a project (not a category): only projects have flows, a lock and data in the store. */
export function isProject(p: Project): boolean {
  return p.type === PROJECT_TYPE_PROJECT;
}

function projectOf(row: Stored<Project, 'public_guest_access'>): Project {
  return {
    uuid: row.uuid,
    type: row.type,
    parent_uuid: row.parent_uuid,
    title: row.title,
    description: row.description,
    readme: row.readme,
    public_guest_access: toBool(row.public_guest_access),
  };
}

export async function getProject(db: Db, uuid: string): Promise<Project | undefined> {
  return first((await db.query<Stored<Project, 'public_guest_access'>>('SELECT * FROM projects WHERE uuid = ?', [uuid])).map(projectOf));
}

export async function listProjects(db: Db): Promise<Project[]> {
  return (await db.query<Stored<Project, 'public_guest_access'>>('SELECT * FROM projects ORDER BY title, uuid')).map(projectOf);
}

export async function insertProject(db: Db, p: Project): Promise<void> {
  await db.exec(
    'INSERT INTO projects (uuid, type, parent_uuid, title, description, readme, public_guest_access) VALUES (?, ?, ?, ?, ?, ?, ?)',
    [p.uuid, p.type, p.parent_uuid, p.title, p.description, p.readme, fromBool(p.public_guest_access)],
  );
}

/** Writes every field of `p` over the stored row. */
export async function updateProject(db: Db, p: Project): Promise<number> {
  return db.exec(
    'UPDATE projects SET type = ?, parent_uuid = ?, title = ?, description = ?, readme = ?, public_guest_access = ? WHERE uuid = ?',
    [p.type, p.parent_uuid, p.title, p.description, p.readme, fromBool(p.public_guest_access), p.uuid],
  );
}

/**
 * A parent or title the project cannot have: a 400 saying what to change,
 * where SODAR Core's `Project.save()` fails with a 500.
 */
export class ProjectRuleError extends HttpError {
  constructor(detail: string) {
    super(400, detail);
  }
}

/**
 * Throws {@link ProjectRuleError} when another project or category below
 * `parentUuid` (null: the top level) is titled `title`: SODAR Core v0.10.12
 * `Project.Meta.unique_together = ('title', 'parent')`. `except` is the
 * project being changed.
 */
export async function assertTitleFree(db: Db, title: string, parentUuid: string | null, except?: string): Promise<void> {
  const clash = (await listProjects(db)).find((p) => p.parent_uuid === parentUuid && p.title === title && p.uuid !== except);
  if (clash) throw new ProjectRuleError(`A project or category titled "${title}" already exists in this category`);
}

/**
 * Throws {@link ProjectRuleError} unless `parent` can hold `project`: it is a
 * category (SODAR Core v0.10.12 `Project._validate_parent_type`), neither the
 * project itself (`_validate_parent`) nor below it, which would make a loop.
 */
export async function assertParentFits(db: Db, project: Project, parent: Project): Promise<void> {
  if (parent.uuid === project.uuid || (await descendants(db, project.uuid)).some((d) => d.uuid === parent.uuid)) {
    throw new ProjectRuleError(`"${project.title}" cannot be moved inside itself`);
  }
  assertCategory(parent);
}

/** Throws {@link ProjectRuleError} unless `parent` is a category: only categories hold projects. */
export function assertCategory(parent: Project): void {
  if (parent.type !== PROJECT_TYPE_CATEGORY) throw new ProjectRuleError('The parent must be a category');
}

/** Removes a project and every row that belongs to it (a compensation for a failed create). */
export async function deleteProjectCascade(db: Db, uuid: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.exec('DELETE FROM landing_zones WHERE project_uuid = ?', [uuid]);
    await deleteSheetRows(tx, uuid);
    await tx.exec('DELETE FROM app_settings WHERE project_uuid = ?', [uuid]);
    await tx.exec('DELETE FROM role_assignments WHERE project_uuid = ?', [uuid]);
    await tx.exec('DELETE FROM projects WHERE uuid = ?', [uuid]);
  });
}

/** Parents of a project, nearest first. */
export async function ancestors(db: Db, project: Project): Promise<Project[]> {
  const out: Project[] = [];
  let parent = project.parent_uuid;
  while (parent) {
    const p = await getProject(db, parent);
    if (!p || out.some((o) => o.uuid === p.uuid)) break;
    out.push(p);
    parent = p.parent_uuid;
  }
  return out;
}

/** Every project and category below `uuid`. */
export async function descendants(db: Db, uuid: string): Promise<Project[]> {
  const all = await listProjects(db);
  const out: Project[] = [];
  const queue = [uuid];
  while (queue.length > 0) {
    const cur = queue.shift();
    for (const p of all) {
      if (p.parent_uuid === cur && !out.some((o) => o.uuid === p.uuid)) {
        out.push(p);
        queue.push(p.uuid);
      }
    }
  }
  return out;
}
