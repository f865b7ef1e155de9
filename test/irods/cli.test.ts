/**
 * The protocol server from the command line (built CLI, real processes):
 * `taskflow store serve` prints its ready line and stops cleanly on SIGTERM,
 * `taskflow store user passwd` takes the password from standard input,
 * `taskflow serve` serves the protocol beside the service, and
 * `taskflow start` gives `rods` a generated password once, kept owner-only.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, runCli, spawnCli } from '../support/host-processes.js';
import { lastJson, runPython, runWithInput, type ChildOutput } from './support/wire-server.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'taskflow-irods-cli-'));
  dirs.push(d);
  return d;
}

/** Runs the CLI with `input` on standard input. */
function runCliWithInput(args: string[], env: Record<string, string>, input: string): Promise<ChildOutput> {
  return runWithInput(process.execPath, [CLI, ...args], input, { TASKFLOW_LOG_LEVEL: 'warn', ...env });
}

const LOGIN = `
from irods.session import iRODSSession
a = ARGS
s = iRODSSession(host='127.0.0.1', port=a['port'], user=a['user'], password=a['password'], zone=a['zone'])
try:
    c = s.pool.get_connection()
    out = {'ok': True, 'version': list(c.server_version)}
    c.release()
except Exception as e:
    out = {'ok': False, 'error': type(e).__name__}
s.cleanup()
print(json.dumps(out))
`;

async function login(port: number, user: string, password: string, zone = 'omicsZone'): Promise<Record<string, unknown>> {
  return lastJson((await runPython(LOGIN, { port, user, password, zone })).stdout);
}

describe('taskflow store serve and store user passwd', () => {
  it('sets a password from standard input, serves it, prints exactly the ready line on stdout and stops on SIGTERM', async () => {
    const env = { TASKFLOW_DATA_DIR: join(tempDir(), 'data') };
    expect((await runCli(['store', 'user', 'add', 'alice'], env)).code).toBe(0);
    const set = await runCliWithInput(['store', 'user', 'passwd', 'alice'], env, 'alice pw 1\nignored second line\n');
    expect(set).toMatchObject({ code: 0, stdout: 'Password of "alice" set\n' });
    const spaced = await runCliWithInput(['store', 'user', 'passwd', 'alice'], env, ' padded\n');
    expect(spaced.code).toBe(1);
    expect(spaced.stderr).toMatch(/must not start or end with spaces/);
    const unknown = await runCliWithInput(['store', 'user', 'passwd', 'nobody'], env, 'pw\n');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/user not found: nobody/);

    const p = spawnCli(['store', 'serve', '--listen', '127.0.0.1:0'], env);
    let stdout = '';
    p.proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    const [, port] = await p.waitFor(/irods listening on 127\.0\.0\.1:(\d+)\n/);
    expect(stdout).toBe(`irods listening on 127.0.0.1:${port}\n`);
    expect(await login(Number(port), 'alice', 'alice pw 1')).toMatchObject({ ok: true, version: [4, 2, 12] });
    expect(await login(Number(port), 'alice', 'ignored second line')).toMatchObject({ ok: false, error: 'CAT_INVALID_AUTHENTICATION' });
    expect(await p.stop('SIGTERM')).toBe(0);
  });

  it('says how to choose another address when the port is taken, and that the server is off', async () => {
    const env = { TASKFLOW_DATA_DIR: join(tempDir(), 'data') };
    const first = spawnCli(['store', 'serve', '--listen', '127.0.0.1:0'], env);
    const [, port] = await first.waitFor(/irods listening on 127\.0\.0\.1:(\d+)/);
    const busy = await runCli(['store', 'serve', '--listen', `127.0.0.1:${port}`], { TASKFLOW_DATA_DIR: join(tempDir(), 'data') });
    expect(busy.code).toBe(1);
    expect(busy.output).toContain(`127.0.0.1:${port} is already in use`);
    expect(busy.output).toContain('TASKFLOW_IRODS_LISTEN');
    const off = await runCli(['store', 'serve'], { ...env, TASKFLOW_IRODS_LISTEN: 'off' });
    expect(off.code).toBe(1);
    expect(off.output).toMatch(/off .*--listen/);
    expect(await first.stop()).toBe(0);
  });
});

describe('taskflow serve and taskflow start', () => {
  it('taskflow serve serves the protocol over the service\'s store, on a free port beside --port 0', async () => {
    const p = spawnCli(['serve', '--port', '0'], { TASKFLOW_DATA_DIR: join(tempDir(), 'data'), TASKFLOW_TEST_MODE: 'true' });
    const [, port] = await p.waitFor(/irods listening on 127\.0\.0\.1:(\d+)/);
    await p.waitFor(/taskflow service listening on/);
    // no password yet for rods under serve: an operator sets one
    expect(await login(Number(port), 'rods', '')).toMatchObject({ ok: false, error: 'CAT_INVALID_AUTHENTICATION' });
    expect(await p.stop()).toBe(0);
  });

  it('taskflow start generates a password for rods once, stored owner-only, and names only its file later', async () => {
    const dataDir = join(tempDir(), 'data');
    const first = spawnCli(['start', '--port', '0', '--site-port', '0'], { TASKFLOW_DATA_DIR: dataDir });
    const [, password, file] = await first.waitFor(/password for iRODS user "rods" \(shown only now\): (\S+) \(stored in (\S+)\)/);
    const [, port] = await first.waitFor(/iRODS protocol: 127\.0\.0\.1:(\d+), zone omicsZone/);
    expect(file).toBe(join(dataDir, 'irods-password'));
    expect(statSync(file!).mode & 0o777).toBe(0o600);
    expect(readFileSync(file!, 'utf8').trim()).toBe(password);
    expect(await login(Number(port), 'rods', password!)).toMatchObject({ ok: true });
    expect(await first.stop()).toBe(0);

    const second = spawnCli(['start', '--port', '0', '--site-port', '0'], { TASKFLOW_DATA_DIR: dataDir });
    await second.waitFor(/Password of iRODS user "rods": stored in /);
    const [, port2] = await second.waitFor(/iRODS protocol: 127\.0\.0\.1:(\d+)/);
    expect(second.output()).not.toContain(password);
    expect(await login(Number(port2), 'rods', password!)).toMatchObject({ ok: true });
    expect(await second.stop()).toBe(0);
  });
});
