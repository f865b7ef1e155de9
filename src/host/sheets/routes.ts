/**
 * samplesheets API: import a sheet (studies and assays as JSON), read it, and
 * create its collections in the store (sheet_colls_create).
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { PROJECT_TYPE_PROJECT } from '../constants.js';
import type { SiteContext } from '../context.js';
import { badRequest, notFound } from '../errors.js';
import { addEvent, getInvestigation, setDirStatus, sheetCollectionPaths, type Investigation, type User } from '../repo.js';
import { submitFlow, withCompensation } from '../submit.js';
import { tracked } from '../timeline.js';
import { NEED, projectFor } from '../api/access.js';
import { bodyOf, forceFailOf, optString, requireUser } from '../api/request.js';
import { investigationJson } from '../api/serialize.js';

type Params = Record<string, string>;

interface StudyIn {
  title: string;
  assays: { title: string }[];
}

function parseStudies(body: Record<string, unknown>): StudyIn[] {
  const studies = body.studies;
  if (!Array.isArray(studies) || studies.length === 0) throw badRequest('Field "studies" must be a non-empty list');
  return studies.map((s, i) => {
    if (typeof s !== 'object' || s === null) throw badRequest(`studies[${i}] must be an object`);
    const st = s as Record<string, unknown>;
    const assays = st.assays ?? [];
    if (!Array.isArray(assays)) throw badRequest(`studies[${i}].assays must be a list`);
    return {
      title: typeof st.title === 'string' ? st.title : `Study ${i + 1}`,
      assays: assays.map((a, j) => ({
        title: typeof (a as Record<string, unknown>)?.title === 'string' ? ((a as Record<string, unknown>).title as string) : `Assay ${j + 1}`,
      })),
    };
  });
}

/** Registers the samplesheets API under `samplesheets/api/`. */
export function sampleSheetRoutes(app: FastifyInstance, ctx: SiteContext): void {
  const { db } = ctx;

  app.post<{ Params: Params }>('/samplesheets/api/create/:project', async (req, reply) => {
    const user = await requireUser(ctx, req);
    const inv = await importSheet(ctx, user, req.params.project, () => bodyOf(req));
    reply.code(201);
    return investigationJson(db, inv);
  });

  app.get<{ Params: Params }>('/samplesheets/api/investigation/retrieve/:project', async (req) => {
    const user = await requireUser(ctx, req);
    const project = await projectFor(db, user, req.params.project, NEED.view);
    const inv = await getInvestigation(db, project.uuid);
    if (!inv) throw notFound('Sample sheet');
    return investigationJson(db, inv);
  });

  app.post<{ Params: Params }>('/samplesheets/api/irods/collections/create/:project', async (req) => {
    const user = await requireUser(ctx, req);
    const colls = await createCollections(ctx, user, req.params.project, forceFailOf(ctx, req));
    return { detail: 'iRODS collections created', collections: colls };
  });
}

/**
 * Imports a sample sheet (`studies`: a list of `{title, assays: [{title}]}`,
 * optional `title`) into the project, as `user`; `body` is read after the
 * project is checked, as the API always did.
 */
export async function importSheet(ctx: SiteContext, user: User, projectUuid: string, fields: () => Record<string, unknown>): Promise<Investigation> {
  const { db } = ctx;
  const project = await projectFor(db, user, projectUuid, NEED.contribute);
  if (project.type !== PROJECT_TYPE_PROJECT) throw badRequest('Sample sheets belong to projects, not categories');
  if (await getInvestigation(db, project.uuid)) throw badRequest('This project already has a sample sheet');
  const body = fields();
  const studies = parseStudies(body);
  const invUuid = randomUUID();
  await db.transaction(async (tx) => {
    await tx.exec('INSERT INTO investigations (uuid, project_uuid, title, irods_status) VALUES (?, ?, ?, 0)', [
      invUuid,
      project.uuid,
      optString(body, 'title') ?? project.title,
    ]);
    for (const s of studies) {
      const sUuid = randomUUID();
      // SODAR's collection names: study_<uuid> and study_<uuid>/assay_<uuid>.
      const sPath = `study_${sUuid}`;
      await tx.exec('INSERT INTO studies (uuid, investigation_uuid, title, path) VALUES (?, ?, ?, ?)', [sUuid, invUuid, s.title, sPath]);
      for (const a of s.assays) {
        const aUuid = randomUUID();
        await tx.exec('INSERT INTO assays (uuid, study_uuid, title, path) VALUES (?, ?, ?, ?)', [aUuid, sUuid, a.title, `${sPath}/assay_${aUuid}`]);
      }
    }
  });
  // Importing a sheet touches only the site (no flow), as in SODAR.
  await addEvent(db, { projectUuid: project.uuid, app: 'samplesheets', userUuid: user.uuid, eventName: 'sheet_create', description: 'create sample sheet', status: 'OK' });
  return (await getInvestigation(db, project.uuid))!;
}

/** Creates the sample sheet's collections in the store (sheet_colls_create), as `user`; returns their paths. */
export async function createCollections(ctx: SiteContext, user: User, projectUuid: string, forceFail: boolean): Promise<string[]> {
  const { db } = ctx;
  const project = await projectFor(db, user, projectUuid, NEED.manage);
  const inv = await getInvestigation(db, project.uuid);
  if (!inv) throw notFound('Sample sheet');
  if (inv.irods_status) throw badRequest('iRODS collections already created for this project');
  const colls = await sheetCollectionPaths(db, inv.uuid);
  const info = { projectUuid: project.uuid, app: 'samplesheets', userUuid: user.uuid, eventName: 'sheet_colls_create', description: 'create iRODS collections' };
  // The site's change (the sheet's iRODS status) follows the flow: nothing to apply first, but the
  // status the flow's own callback may have set goes back should the flow fail.
  await tracked(ctx, info, (event) =>
    withCompensation(
      db,
      async () => ({
        value: undefined,
        eventUuid: event.uuid,
        projectUuid: project.uuid,
        undo: { kind: 'sheet_dirs_restore', project_uuid: project.uuid, irods_status: false },
      }),
      async () => {
        await submitFlow(ctx, {
          projectUuid: project.uuid,
          flowName: 'sheet_colls_create',
          flowData: { colls, public_guest_access: project.public_guest_access },
          forceFail,
          checkLock: true,
          timelineUuid: event.uuid,
        });
        await setDirStatus(db, project.uuid, true);
      },
    ),
  );
  return colls;
}
