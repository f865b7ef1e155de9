/**
 * Child process of the per-kind crash tests (test/tasks/crash-kinds.test.ts):
 * runs one service task, rebuilt from its JSON spec through taskRegistry,
 * against the embedded store in `dataDir` and the test site, with a SQLite
 * journal. At the first call of the task's apply that changes the store or
 * the site it prints READY and blocks its thread for good, so the test's
 * SIGKILL lands between the journaled intent and the end of the apply:
 * `before` the call, or `after` it returned.
 *
 * usage: node task-crash-child.js <dataDir> <secret> <taskSpecJson> <before|after>
 */
import { writeSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { LinearFlow } from '../../src/engine/flow.js';
import { runFlow } from '../../src/engine/runner.js';
import { SqliteJournal } from '../../src/engine/sqlite-journal.js';
import type { TaskSpec } from '../../src/engine/types.js';
import { SiteClient } from '../../src/site/client.js';
import { openStore } from '../../src/store/index.js';
import type { TaskContext } from '../../src/tasks/context.js';
import { taskRegistry } from '../../src/tasks/index.js';
import { Endpoint } from '../../src/tasks/site-tasks.js';

const [dataDir, secret, specJson, point] = process.argv.slice(2);

/** Store methods that change something (what a task's apply calls). */
const STORE_CHANGES = new Set([
  'createCollection', 'removeCollection', 'setAccess', 'setAccesses', 'setAccessMany', 'setInheritance', 'createPrincipal', 'removePrincipal',
  'addGroupMember', 'removeGroupMember', 'modifyMetadata', 'trash', 'restore', 'move', 'moveMany',
]);
const SITE_READS = new Set<string>([Endpoint.projectGet, Endpoint.roleGet, Endpoint.settingsGet, Endpoint.dirsGet]);

function signalAndBlock(): never {
  writeSync(1, 'READY\n');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  throw new Error('unreachable');
}

/** `target` whose changing calls stop the process at the chosen point. */
function stopping<T extends object>(target: T, changes: (method: string, args: unknown[]) => boolean): T {
  return new Proxy(target, {
    get(t, prop) {
      const value = Reflect.get(t, prop, t) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (!changes(String(prop), args)) return (value as (...a: unknown[]) => unknown).apply(t, args);
        if (point === 'before') signalAndBlock();
        return Promise.resolve((value as (...a: unknown[]) => unknown).apply(t, args)).then(() => signalAndBlock());
      };
    },
  });
}

const config = loadConfig({
  TASKFLOW_DATA_DIR: dataDir,
  TASKFLOW_SODAR_SECRET: secret,
  TASKFLOW_TEST_MODE: 'true',
  TASKFLOW_HASH_WORKERS: '2',
  TASKFLOW_STORE_SYNC: 'false',
});
const store = await openStore(config);
const site = new SiteClient({ secret, timeoutMs: 10_000 });
const ctx: TaskContext = {
  store: stopping(store, (m) => STORE_CHANGES.has(m)),
  site: stopping(site, (m, args) => (m === 'post' || m === 'postJson') && !SITE_READS.has(String(args[1]))),
  config,
};
const flow = new LinearFlow<TaskContext>('crash_kind', ['irods', 'sodar']).add(taskRegistry.create(JSON.parse(specJson) as TaskSpec));
const journal = new SqliteJournal(join(dataDir, 'crash-journal.sqlite'));
const result = await runFlow(flow, ctx, { journal, runId: 'crash' });
// only reached when the task changed nothing: the test fails on this line
writeSync(1, `FINISHED ${result.status} ${result.error ?? ''}\n`);
process.exit(0);
