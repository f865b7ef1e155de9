/**
 * Specific queries off the server's thread, within a time limit
 * (`src/irods/specific-query/runner.ts`): a registered query that never
 * ends, or runs long, is answered `CAT_SQL_ERR` at the limit and its process
 * killed, while other connections and other queries are answered meanwhile;
 * the next query runs in a fresh process.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { icatSiteOf } from '../../src/irods/specific-query/icat-views.js';
import { childExecArgv, SpecificQueryRunner } from '../../src/irods/specific-query/runner.js';
import { IRODS_ERRORS } from '../../src/irods/wire/error-codes.js';
import { IrodsError } from '../../src/irods/wire/irods-error.js';
import { INITIAL_SPECIFIC_QUERIES } from '../../src/store/embedded/specific-queries.js';
import { tempStore, type TempStore } from '../support/store-helpers.js';
import { dataObjInp } from './support/objects-context.js';
import { loggedIn } from './support/raw-client.js';
import { CLIENT_PRELUDE, clientScript, startWireServer, type WireServer } from './support/wire-server.js';

/** Never yields a row and never ends: SQLite stays inside one `sqlite3_step`. */
const ENDLESS = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT x FROM c WHERE x < 0';
/**
 * Long enough that an ordinary query raced against an endless one is
 * answered first even on a machine loaded by the rest of the suite (at 2 s
 * it once was not).
 */
const LIMIT_MS = 4000;
/**
 * The wire server's limit: longer, as it also covers starting a query
 * process, which from TypeScript sources (the tests) takes up to a second
 * on a busy machine (from dist/, about 0.2 s).
 */
const WIRE_LIMIT_MS = 3000;

/** The query processes this test process has started, by pid (they are its children). */
function queryProcesses(): number[] {
  let out = '';
  try {
    out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  } catch {
    return []; // ps exits 1 when it lists nothing
  }
  return out
    .split('\n')
    .filter((l) => l.includes('query-process'))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

/** Resolves when `ok()` holds; fails after `ms`. Waits on the processes' ends, which nothing announces to this test. */
async function until(ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function failure(p: Promise<unknown>): Promise<IrodsError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof IrodsError) return err;
    throw err;
  }
  throw new Error('expected an iRODS error');
}

describe('the query runner', () => {
  let t: TempStore;
  let runner: SpecificQueryRunner;
  beforeEach(async () => {
    t = await tempStore();
    runner = new SpecificQueryRunner(icatSiteOf(t.store.protocolCore()), LIMIT_MS);
  });
  afterEach(async () => {
    runner.close();
    await t.cleanup();
  });

  it('ends an endless query at the limit with CAT_SQL_ERR and kills its process; another query is answered meanwhile, and after it', async () => {
    // both processes started first, so what follows races queries, not process starts
    await Promise.all([runner.run('SELECT 1 FROM R_ZONE_MAIN', [], 0, 1), runner.run('SELECT 1 FROM R_ZONE_MAIN', [], 0, 1)]);
    expect(queryProcesses()).toHaveLength(2);
    const seen: string[] = [];
    const started = Date.now();
    const endless = failure(runner.run(ENDLESS, [], 0, 10)).then((e) => (seen.push('endless'), e));
    const names = runner.run('SELECT coll_name FROM R_COLL_MAIN ORDER BY coll_name', [], 0, 10).then((p) => (seen.push('names'), p));
    expect((await names).rows).toContainEqual(['/testZone/home']);
    const err = await endless;
    const took = Date.now() - started;
    expect(seen).toEqual(['names', 'endless']);
    expect(err.codeName).toBe('CAT_SQL_ERR');
    expect(err.message).toMatch(/^specific query ended at the 4 s limit \(TASKFLOW_IRODS_QUERY_TIMEOUT\): it ran 4\.\d s$/);
    expect(took).toBeGreaterThanOrEqual(LIMIT_MS);
    // the killed process is gone: one is left, the one that answered
    await until(() => queryProcesses().length === 1);
    // and the next query starts a fresh one beside it
    expect((await runner.run('SELECT user_name FROM R_USER_MAIN WHERE user_name = ?', ['rods'], 0, 10)).rows).toEqual([['rods']]);
  });

  it('a query waiting for a process while endless ones hold them all is answered at its limit too', async () => {
    const a = failure(runner.run(ENDLESS, [], 0, 10));
    const b = failure(runner.run(ENDLESS, [], 0, 10));
    const c = failure(runner.run('SELECT 1 FROM R_ZONE_MAIN', [], 0, 10));
    // a's end frees a process just before c's limit: c says it spent its time waiting
    expect((await c).message).toMatch(/^specific query ended at the 4 s limit \(TASKFLOW_IRODS_QUERY_TIMEOUT\): it (never started|ran 0\.\d s after waiting \d\.\d s for a query process)/);
    expect((await a).codeName).toBe('CAT_SQL_ERR');
    expect((await b).codeName).toBe('CAT_SQL_ERR');
    await until(() => queryProcesses().length === 0);
  });

  it('a query process whose server was killed mid-query kills itself', async () => {
    // a server process of its own, running an endless query, then SIGKILLed: nothing closes its runner
    const src = (f: string) => pathToFileURL(`${process.cwd()}/src/${f}`).href;
    const server = spawn(
      process.execPath,
      [
        ...process.execArgv,
        '--input-type=module',
        '-e',
        `import { EmbeddedStore } from '${src('store/embedded/store.ts')}';
         import { icatSiteOf } from '${src('irods/specific-query/icat-views.ts')}';
         import { SpecificQueryRunner } from '${src('irods/specific-query/runner.ts')}';
         const store = EmbeddedStore.open({ dataDir: process.argv[1], zone: 'testZone' });
         const runner = new SpecificQueryRunner(icatSiteOf(store.protocolCore()), 600000);
         await runner.run('SELECT 1 FROM R_ZONE_MAIN', [], 0, 1); // its one query process answers
         runner.run(process.argv[2], [], 0, 10).catch(() => {}); // and takes this one
         console.log('running');`,
        t.dataDir,
        ENDLESS,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await once(server.stdout!, 'data');
    const queryProcess = () => execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(server.pid)], { encoding: 'utf8' }).split('\n').find((l) => l.includes('query-process'));
    const pid = Number(queryProcess()!.trim().split(/\s+/)[0]);
    server.kill('SIGKILL');
    await once(server, 'exit');
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    try {
      expect(alive()).toBe(true); // orphaned, inside its endless statement
      await until(() => !alive(), 5000);
    } finally {
      if (alive()) process.kill(pid, 'SIGKILL'); // a failed test leaves no spinning process behind
    }
  });

  it("passes a query process this process's Node options but an eval'd script and an inspector", () => {
    expect(childExecArgv(['--import', '/l.mjs', '-e', 'code', '--input-type=module', '--inspect=9229', '--max-old-space-size=512'])).toEqual(['--import', '/l.mjs', '--max-old-space-size=512']);
    expect(childExecArgv(['--eval=code', '-p', 'x', '--enable-source-maps'])).toEqual(['--enable-source-maps']);
  });

  it('close kills a running query and fails it', async () => {
    const a = failure(runner.run(ENDLESS, [], 0, 10));
    await until(() => queryProcesses().length === 1);
    runner.close();
    expect((await a).message).toMatch(/shutting down/);
    await until(() => queryProcesses().length === 0);
  });
});

describe('an endless specific query over the wire', () => {
  let w: WireServer;
  beforeAll(async () => {
    w = await startWireServer({ limits: { queryTimeoutMs: WIRE_LIMIT_MS } });
    await w.store.createPrincipal('alice', 'rodsuser');
    w.store.setPassword('alice', 'alice-pw');
  });
  afterAll(async () => {
    await w?.stop();
  });

  it("registered by rods and run by a user is answered CAT_SQL_ERR at the limit; another connection's stat is answered first", async () => {
    // rods registers it, as python-irodsclient 0.8.1 does (`SpecificQuery.register`)
    expect(
      await clientScript(
        w,
        `${CLIENT_PRELUDE}
from irods.query import SpecificQuery
r = session('rods', 'rods-pw')
SpecificQuery(r, a['sql'], 'endless').register()
r.cleanup()
print(json.dumps({'registered': True}))
`,
        { sql: ENDLESS },
      ),
    ).toEqual({ registered: true });

    const alice = await loggedIn(w.port, 'alice', 'alice-pw');
    const seen: string[] = [];
    const started = Date.now();
    alice.send('RODS_API_REQ', {
      intInfo: 722,
      body: {
        name: 'specificQueryInp_PI',
        fields: { sql: 'endless', arg1: '', arg2: '', arg3: '', arg4: '', arg5: '', arg6: '', arg7: '', arg8: '', arg9: '', arg10: '', maxRows: '500', continueInx: '0', rowOffset: '0', options: '0', KeyValPair_PI: { ssLen: '0' } },
      },
    });
    const query = alice.reply().then((r) => (seen.push('query'), r));
    query.catch(() => undefined); // awaited below; a failure before that must not go unhandled
    // The second client connects only now: its login and stat take several
    // round trips, each needing the server's thread, after alice's request
    // was written; a query run on that thread would hold them all back.
    const rods = await loggedIn(w.port, 'rods', 'rods-pw');
    rods.send('RODS_API_REQ', { intInfo: 633, body: { name: 'DataObjInp_PI', fields: dataObjInp('/testZone/home') } });
    const stat = await rods.reply();
    seen.push('stat');
    expect(stat.intInfo).toBe(2); // COLL_OBJ_T: rsObjStat answers the object's type

    const answer = await query;
    expect(seen).toEqual(['stat', 'query']);
    expect(answer.intInfo).toBe(IRODS_ERRORS.CAT_SQL_ERR);
    expect(answer.error).toMatch(/ended at the 3 s limit \(TASKFLOW_IRODS_QUERY_TIMEOUT\): it ran 3\.\d s/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(WIRE_LIMIT_MS);
    alice.close();
    rods.close();

    // python-irodsclient 0.8.1 knows the code; the next query on the same session runs
    const out = await clientScript(
      w,
      `${CLIENT_PRELUDE}
from irods.query import SpecificQuery
s = session('alice', 'alice-pw')
endless = attempt(lambda: next(SpecificQuery(s, alias='endless').get_results()))
names = [x[0] for x in SpecificQuery(s, alias='ls')]
s.cleanup()
print(json.dumps({'endless': endless, 'names': names}))
`,
    );
    expect(out).toEqual({ endless: 'CAT_SQL_ERR', names: [...INITIAL_SPECIFIC_QUERIES.map((q) => q.alias), 'endless'] });
  });
});
