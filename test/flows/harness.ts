/**
 * A world for flow tests: an embedded store in a temp dir, a strict test site,
 * and helpers to run flows and to compare the whole store dump and site state.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import { LinearFlow } from '../../src/engine/flow.js';
import { MemoryJournal } from '../../src/engine/memory-journal.js';
import { runFlow } from '../../src/engine/runner.js';
import type { Json, RunResult, Task } from '../../src/engine/types.js';
import { getFlow } from '../../src/flows/index.js';
import type { FlowDeps, FlowInput } from '../../src/flows/types.js';
import { SiteClient } from '../../src/site/client.js';
import { openStore } from '../../src/store/index.js';
import type { FlowStore, StoreAdmin } from '../../src/store/types.js';
import type { TaskContext } from '../../src/tasks/context.js';
import { startTestSite, type SiteState, type TestSite, type TestSiteOptions } from '../support/test-site.js';

export const SECRET = 'flows-test-secret';

export interface World {
  dir: string;
  config: Config;
  store: FlowStore & StoreAdmin;
  site: TestSite;
  client: SiteClient;
  deps: FlowDeps;
  ctx: TaskContext;
  close(): Promise<void>;
}

export async function openWorld(env: Record<string, string> = {}, siteOptions: Omit<TestSiteOptions, 'secret'> = {}): Promise<World> {
  const dir = await mkdtemp(join(tmpdir(), 'flows-test-'));
  const config = loadConfig({
    TASKFLOW_DATA_DIR: dir,
    TASKFLOW_SODAR_SECRET: SECRET,
    TASKFLOW_TEST_MODE: 'true',
    TASKFLOW_HASH_WORKERS: '2',
    TASKFLOW_STORE_SYNC: 'false',
    ...env,
  });
  const store = await openStore(config);
  const site = await startTestSite({ secret: SECRET, ...siteOptions });
  const client = new SiteClient({ secret: SECRET, timeoutMs: 10_000 });
  const deps: FlowDeps = { store, site: client, config };
  return {
    dir,
    config,
    store,
    site,
    client,
    deps,
    ctx: deps,
    async close() {
      await site.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface Snapshot {
  store: string[];
  site: SiteState;
}

export async function snapshot(w: World): Promise<Snapshot> {
  return { store: await w.store.dump(), site: w.site.state() };
}

export function makeInput(
  w: World,
  flowName: string,
  projectUuid: string,
  flowData: Record<string, Json>,
  opts: Partial<FlowInput> = {},
): FlowInput {
  return {
    projectUuid,
    flowName,
    flowData,
    targets: ['irods', 'sodar'],
    requestMode: 'sync',
    forceFail: false,
    timelineUuid: undefined,
    sodarUrl: w.site.url,
    ...opts,
  };
}

/** Validates, builds and runs a flow the way the service does (onFailure included). */
export async function runInput(w: World, input: FlowInput): Promise<RunResult> {
  const def = getFlow(input.flowName);
  if (!def) throw new Error(`no flow ${input.flowName}`);
  await def.validate(input, w.deps);
  const flow = await def.build(input, w.deps);
  return runFlow(flow, w.ctx, { journal: new MemoryJournal(), forceFail: input.forceFail });
}

export async function build(w: World, input: FlowInput): Promise<LinearFlow<TaskContext>> {
  const def = getFlow(input.flowName)!;
  await def.validate(input, w.deps);
  return def.build(input, w.deps);
}

/** The same flow with task `index` failing instead of running. */
export function failingAt(flow: LinearFlow<TaskContext>, index: number, targets: readonly string[]): LinearFlow<TaskContext> {
  const out = new LinearFlow<TaskContext>(flow.name, targets);
  flow.tasks.forEach((t, i) => {
    if (i !== index) out.add(t);
    else {
      const broken: Task<TaskContext> = {
        kind: t.kind,
        name: t.name,
        target: t.target,
        args: t.args,
        prepare() {
          throw new Error(`Injected failure at task ${i} (${t.name})`);
        },
        apply() {},
        revert() {},
      };
      out.add(broken);
    }
  });
  return out;
}

/** Tasks the site cannot undo, always last in their flow: a crash after them leaves them done. */
export function irreversible(t: Task<TaskContext>): boolean {
  if (t.kind === 'site.deleteSheet') return true;
  return t.kind === 'site.setZoneStatus' && (t.args as { revert_to: Json }).revert_to === null;
}

export const uuid = (n: number, prefix = 'a') => `${prefix}${String(n).padStart(7, '0')}-0000-4000-8000-000000000000`;
