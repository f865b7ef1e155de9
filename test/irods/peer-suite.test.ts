/**
 * python-irodsclient's own test suite (Debian python3-irodsclient 0.8.1,
 * irods/test/*_test.py, tests no one here wrote) against the embedded
 * store's iRODS server: a fresh store, `rods` with a password, a client home
 * for rods, then test/irods/peer_suite.py runs the modules below in one
 * Python process, leaving out test/irods/peer-skip-list.txt.
 *
 * Passes only with the server (src/irods, `taskflow store serve`); see
 * test/irods/README.md for what the suite needs from it.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IRODS_TEST_DIR, requireIrodsClient, runPython, writeClientHome } from '../support/irods-client.js';
import { startIrodsStore, type IrodsStoreServer } from '../support/irods-store-server.js';

/** The modules the issue names (irods.test.<name>_test). */
const MODULES = ['collection', 'data_obj', 'meta', 'access', 'user_group', 'query', 'connection', 'file', 'unicode', 'admin', 'pool', 'message'];
/**
 * Share of all tests of those modules that must pass (listed ones count as
 * not passed), so that the list cannot quietly grow: the issue's goal. With
 * every test not on the list passing, 88 of 101 pass (87.1%): see README.md
 * in this folder for why the rest cannot.
 */
const MIN_PASS_RATE = 0.85;
/** Seconds one module may take before its remaining tests count as not run. */
const MODULE_TIMEOUT_S = 300;
const SKIP_LIST = join(IRODS_TEST_DIR, 'peer-skip-list.txt');

type Outcome = 'passed' | 'failed' | 'error' | 'skipped' | 'listed' | 'timeout' | 'not_run';
type Event =
  | { event: 'module'; module: string; tests: string[] }
  | { event: 'test'; id: string; module: string; outcome: Outcome; detail: string }
  | { event: 'done' }
  | { event: 'fatal'; message: string };

let server: IrodsStoreServer | undefined;
let root: string;

beforeAll(async () => {
  requireIrodsClient();
  server = await startIrodsStore();
  root = join(server.dataDir, '..', 'client');
  mkdirSync(root, { recursive: true });
}, 120_000);

afterAll(async () => {
  await server?.dispose();
});

describe("python-irodsclient 0.8.1's own tests against the store's iRODS server", () => {
  it(`pass, but for the skip list, and at least ${MIN_PASS_RATE * 100}% of all`, { timeout: 40 * 60_000 }, async () => {
    const s = server!;
    // host "localhost": the suite's registration tests read server-side files only when the server is local by name
    const env = await writeClientHome(root, { ...s.admin, host: 'localhost' });
    const results = join(root, 'results.jsonl');
    const run = await runPython(
      [join(IRODS_TEST_DIR, 'peer_suite.py'), '--skip-list', SKIP_LIST, '--results', results, '--module-timeout', String(MODULE_TIMEOUT_S), ...MODULES],
      // cwd: the suite writes a few files relative to it; /tmp names are its own choice
      // PEER_SUITE_PROGRESS=1: one line per test as it runs
      { env, cwd: root, timeoutMs: (MODULES.length * MODULE_TIMEOUT_S + 120) * 1000, onStderr: process.env.PEER_SUITE_PROGRESS ? (t) => process.stderr.write(t) : undefined },
    );
    const events = readFileSync(results, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Event);

    const fatal = events.find((e) => e.event === 'fatal');
    expect(fatal, fatal && 'message' in fatal ? fatal.message : '').toBeUndefined();
    expect(run.timedOut, `the runner was killed after its deadline:\n${run.stderr.slice(-3000)}`).toBe(false);
    expect(events.some((e) => e.event === 'done'), `the runner stopped early (${run.code ?? run.signal}):\n${run.stderr.slice(-3000)}`).toBe(true);

    const total = events.filter((e) => e.event === 'module').reduce((n, e) => n + (e as { tests: string[] }).tests.length, 0);
    const tests = events.filter((e): e is Extract<Event, { event: 'test' }> => e.event === 'test');
    const count = (o: Outcome) => tests.filter((t) => t.outcome === o).length;
    const passed = count('passed');
    const listed = count('listed');
    // a test not on the list must pass: one the suite skipped itself saw a server unlike the one it needs
    const bad = tests.filter((t) => t.outcome !== 'passed' && t.outcome !== 'listed');
    const summary =
      `peer suite: ${total} tests in ${MODULES.length} modules: ${passed} passed, ${bad.length} failed ` +
      `(${count('failed')} failures, ${count('error')} errors, ${count('skipped')} skipped by the suite itself, ` +
      `${count('timeout') + count('not_run')} out of time), ${listed} skipped by the list; ` +
      `pass rate ${((passed / total) * 100).toFixed(1)}% (at most ${(((total - listed) / total) * 100).toFixed(1)}% with this list)`;
    console.log(summary);

    expect(tests.length, 'every test of the modules has an outcome').toBe(total);
    const lastLine = (t: { detail: string }) => t.detail.trim().split('\n').slice(-1)[0] ?? '';
    expect(bad.map((t) => `${t.outcome} ${t.id}: ${lastLine(t)}`), summary).toEqual([]);
    expect(passed / total, summary).toBeGreaterThanOrEqual(MIN_PASS_RATE);
    expect(s.alive(), 'the server is still running').toBe(true);
  });
});
