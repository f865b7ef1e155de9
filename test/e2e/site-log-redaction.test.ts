/**
 * The site's request log (`taskflow site --log`, and the site within
 * `taskflow start`) never holds a credential that requests carry: session
 * cookies, API tokens in the Authorization header or the query, passwords in
 * form and JSON bodies, the shared secret of the callbacks. The request
 * lines themselves stay, with the path and the harmless parameters.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnCli, type CliProcess } from '../support/host-processes.js';

const dirs: string[] = [];
const procs: CliProcess[] = [];
afterEach(async () => {
  for (const p of procs.splice(0)) await p.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The value of cookie `name` among a response's Set-Cookie headers. */
function setCookie(res: Response, name: string): string {
  const found = res.headers.getSetCookie().map((c) => c.split(';')[0]).find((pair) => pair.startsWith(`${name}=`));
  if (!found) throw new Error(`no ${name} cookie in ${res.status} ${res.url}`);
  return found.slice(name.length + 1);
}

/** The CSRF token a page's form carries. */
async function csrfOf(res: Response): Promise<string> {
  const m = /name="_csrf" value="([^"]+)"/.exec(await res.text());
  if (!m) throw new Error(`no CSRF token on ${res.url}`);
  return m[1];
}

/** What a run of the site put on standard output, as log lines (the start-up lines are no log lines). */
function logLines(output: string): Record<string, any>[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, any>);
}

const commands = {
  'taskflow site --log': { args: ['site', '--log', '--port', '0'], url: /taskflow site listening on (http\S+)/ },
  'taskflow start': { args: ['start', '--port', '0', '--site-port', '0', '--irods-listen', 'off'], url: /^Site: (http\S+)$/m },
};

describe('the site log keeps credentials out', () => {
  it.each(Object.keys(commands) as (keyof typeof commands)[])('%s', async (command) => {
    const dir = mkdtempSync(join(tmpdir(), 'site-log-'));
    dirs.push(dir);
    const sharedSecret = `shared-${randomBytes(12).toString('hex')}`;
    const p = spawnCli(commands[command].args, { TASKFLOW_DATA_DIR: dir, TASKFLOW_SODAR_SECRET: sharedSecret, TASKFLOW_LOG_LEVEL: 'info' });
    procs.push(p);
    const site = (await p.waitFor(commands[command].url))[1];
    const adminPassword = (await p.waitFor(/Sign-in password of admin user "admin" \(shown only now\): (\S+)/))[1];
    const token = readFileSync(join(dir, 'admin-token'), 'utf8').trim();
    const api = { authorization: `Token ${token}`, 'content-type': 'application/json' };

    // a real sign-in: the anonymous session's cookie, the password posted as a form field, the signed-in session's cookie
    const loginPage = await fetch(`${site}/login`, { headers: { accept: 'text/html' } });
    const anonymous = setCookie(loginPage, 'sodar_session');
    const signIn = await fetch(`${site}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: `sodar_session=${anonymous}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: await csrfOf(loginPage), username: 'admin', password: adminPassword, next: '/' }).toString(),
    });
    expect(signIn.status).toBe(303);
    const session = setCookie(signIn, 'sodar_session');
    expect((await fetch(`${site}/`, { headers: { accept: 'text/html', cookie: `sodar_session=${session}` } })).status).toBe(200);
    // the API: a token in the Authorization header, a new user's token in the answer, a password in a JSON body
    const bob = (await (await fetch(`${site}/project/api/users/create`, { method: 'POST', headers: api, body: JSON.stringify({ username: 'bob' }) })).json()) as { sodar_uuid: string; token: string };
    const bobPassword = `bob-pw-${randomBytes(8).toString('hex')}`;
    const set = await fetch(`${site}/project/api/users/password/${bob.sodar_uuid}`, { method: 'POST', headers: api, body: JSON.stringify({ password: bobPassword }) });
    expect(set.status).toBe(200);
    // a client that puts its token into the URL is refused, and its token still stays out of the log
    expect((await fetch(`${site}/project/api/list?page=1&token=${token}`)).status).toBe(401);
    // a callback with the shared secret as a form field, and one with it in the query
    await fetch(`${site}/project/taskflow/get`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ sodar_secret: sharedSecret, project_uuid: '00000000-0000-4000-8000-000000000000' }).toString(),
    });
    await fetch(`${site}/project/taskflow/get?sodar_secret=${sharedSecret}`, { method: 'POST' });

    expect(await p.stop()).toBe(0);
    const lines = logLines(p.output());
    const log = lines.map((l) => JSON.stringify(l)).join('\n');
    const secrets = { adminPassword, token, session, anonymous, bobToken: bob.token, bobPassword, sharedSecret };
    for (const [what, value] of Object.entries(secrets)) {
      expect(value.length, what).toBeGreaterThan(8);
      expect(log.includes(value), `${what} in the log`).toBe(false);
      // a signed cookie is the session id, a dot and its signature: neither part alone either
      for (const part of value.split('.').filter((s) => s.length > 8)) expect(log.includes(part), `part of ${what} in the log`).toBe(false);
    }
    // the service's lines (taskflow start) log no requests: these are the site's
    const requests = lines.filter((l) => l.msg === 'incoming request').map((l) => `${l.req.method} ${l.req.url}`);
    expect(requests).toEqual(
      expect.arrayContaining([
        'GET /login',
        'POST /login',
        'GET /',
        'POST /project/api/users/create',
        `POST /project/api/users/password/${bob.sodar_uuid}`,
        'GET /project/api/list?page=1&token=[redacted]',
        'POST /project/taskflow/get',
        'POST /project/taskflow/get?sodar_secret=[redacted]',
      ]),
    );
  }, 60_000);
});
