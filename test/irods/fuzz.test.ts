/**
 * Mutated requests on the store's iRODS port. The seeds are the requests
 * python-irodsclient 0.8.1 sends for everyday work, recorded live against
 * the server (record_requests.py); each request sent here is one of them
 * changed at random from a fixed seed: a number made huge, negative or no
 * number, a text made empty, long, relative, climbing, foreign or full of
 * markup, an element dropped or doubled, the body cut short, the body sent
 * to another API, a stray byte stream. Every one is answered (an error or a
 * success) well within the refusal bound, the connection goes on, and
 * afterwards the server runs, a real client is served and fsck finds the
 * store consistent. Before login, what anyone who can connect may send (the
 * startup pack, the negotiation answer, the challenge request and the
 * response) is mutated the same way, on many connections at once: each is
 * answered or the connection closed, and no mutated response logs in
 * without the right proof of the password.
 *
 * Passes only with the server (src/irods, `taskflow store serve`).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientOps, IRODS_TEST_DIR, requireIrodsClient, runPython } from '../support/irods-client.js';
import { SYS_CLI_TO_SVR_COLL_STAT_REPLY, SYS_SVR_TO_CLI_COLL_STAT } from '../../src/irods/objects/collection-ops.js';
import { expectedResponse } from '../../src/irods/server/native-auth.js';
import { startIrodsStore, TEST_ZONE, type IrodsStoreServer } from '../support/irods-store-server.js';
import { authenticated, frame, startupPack, WireConnection, type WireMessage } from '../support/irods-wire.js';

/** Mutated requests sent; each names its index in a failure, so a seed and an index reproduce it. */
const REQUESTS = 10_000;
const SEED = 20261206;
/** Connections that send mutated messages before login. */
const LOGIN_CONNECTIONS = 500;
/** How long one answer may take: far below any idle timeout. */
const ANSWER_MS = 10_000;

/** APIs a mutated request may be sent to instead of its own: the served ones, and some a real server has that this one does not. */
const OTHER_APIS = [601, 602, 606, 608, 615, 626, 627, 629, 633, 652, 673, 674, 675, 676, 679, 681, 696, 700, 701, 702, 706, 707, 714, 722, 10215, 20000, 20002, 20004, 20007, 625, 723];
const NUMBERS = ['-1', '0', '2147483648', '-2147483649', '99999999999999999999', 'abc', '', '1e3', '0x10', ' 7 ', '-0', '4294967296'];
// never the fuzzing user's or rods's name: the run must not lock itself or the final check out
const TEXTS = ['x'.repeat(5000), '../..', '/', '', '\u0001', 'ü/€/😀', '&amp;&lt;&gt;', '%s%n', `/${TEST_ZONE}/../etc`, `/${TEST_ZONE}/home/fuzzer/../../..`, '/otherZone/x', 'relative/path', 'null', ' ', 'public'];

interface Seed {
  api: number;
  body: string;
  bs: Buffer;
}

/** A small linear congruential generator: the same seed, the same run. */
function randomFrom(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

/** XML-escapes text for an element. */
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** `body` with one change: an element's value replaced, the element dropped or doubled, or the body cut short. */
function mutate(body: string, random: () => number): string {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(random() * a.length)]!;
  const elements = [...body.matchAll(/<([A-Za-z_]\w*)>([^<]*)<\/\1>/g)];
  const kind = Math.floor(random() * 5);
  if (elements.length === 0 || kind === 4) return body.slice(0, Math.floor(random() * body.length));
  const e = pick(elements);
  const [whole, name, value] = e;
  const replaced = (s: string): string => body.slice(0, e.index) + s + body.slice(e.index + whole.length);
  if (kind === 0) return replaced(`<${name}>${/^-?\d+$/.test(value!) ? pick(NUMBERS) : esc(pick(TEXTS))}</${name}>`);
  if (kind === 1) return replaced('');
  if (kind === 2) return replaced(whole + whole);
  return replaced(`<${name}>${esc(pick(TEXTS))}</${name}>`);
}

/** `p`, or its failure with `what` in front: a reply that does not come names what asked for it. */
function naming(what: string, p: Promise<WireMessage | undefined>): Promise<WireMessage | undefined> {
  return p.catch((err: Error) => {
    throw new Error(`${what}: ${err.message}`);
  });
}

let server: IrodsStoreServer | undefined;
let seeds: Seed[] = [];

beforeAll(async () => {
  requireIrodsClient();
  server = await startIrodsStore({ users: [{ name: 'fuzzer', admin: true }] });
  const account = server.accounts.get('fuzzer')!;
  const recorded = await runPython([join(IRODS_TEST_DIR, 'record_requests.py')], { input: `${JSON.stringify({ ...account, coll: `/${server.zone}/home/fuzzer/seeds` })}\n` });
  if (recorded.code !== 0) throw new Error(`recording the seed requests failed: ${recorded.stderr}`);
  seeds = (JSON.parse(recorded.stdout) as Array<{ api: number; body: string; bs: string }>).map((s) => ({ ...s, bs: Buffer.from(s.bs, 'base64') }));
}, 120_000);

afterAll(async () => {
  await server?.dispose();
});

describe('mutated requests', () => {
  it(`${REQUESTS} requests changed at random from python-irodsclient's own are each answered, and the store stays consistent`, { timeout: 600_000 }, async () => {
    // the seeds cover what a client does: files, collections, metadata, access, queries, users
    expect(new Set(seeds.map((s) => s.api))).toEqual(new Set([602, 673, 674, 675, 676, 679, 681, 696, 615, 627, 701, 702, 706, 707]));
    const { host, port, zone } = server!;
    const account = server!.accounts.get('fuzzer')!;
    const random = randomFrom(SEED);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(random() * a.length)]!;
    const c: WireConnection = await authenticated(host, port, zone, account.user, account.password);
    let errors = 0;
    try {
      for (let i = 0; i < REQUESTS; i++) {
        const seed = pick(seeds);
        const api = random() < 0.15 ? pick(OTHER_APIS) : seed.api;
        let body = random() < 0.9 ? mutate(seed.body, random) : seed.body;
        if (random() < 0.3) body = mutate(body, random);
        const bs = random() < 0.05 ? Buffer.alloc(Math.floor(random() * 100)) : api === seed.api ? seed.bs : undefined;
        const what = `request ${i}: API ${api}, body ${JSON.stringify(body.slice(0, 300))}${bs?.length ? `, ${bs.length} bytes` : ''}`;
        let reply = await naming(what, c.api(api, body, bs, ANSWER_MS));
        while (reply?.intInfo === SYS_SVR_TO_CLI_COLL_STAT) {
          const goOn = Buffer.alloc(4);
          goOn.writeInt32BE(SYS_CLI_TO_SVR_COLL_STAT_REPLY);
          c.send(goOn);
          reply = await naming(what, c.next(ANSWER_MS));
        }
        expect(reply, `${what}: the server closed the connection`).toBeDefined();
        if (reply!.intInfo < 0) errors++;
      }
    } finally {
      c.destroy();
    }
    // most are refused, some go through: the mutations reach the handlers, not only the decoder
    expect(errors).toBeGreaterThan(REQUESTS / 2);
    expect(errors).toBeLessThan(REQUESTS);
    expect(server!.alive(), 'the server process is running').toBe(true);
    const [login, list] = await clientOps(server!.admin, [{ op: 'login' }, { op: 'list', path: `/${zone}/home/rods` }]);
    expect(login, JSON.stringify(login)).toMatchObject({ ok: true });
    expect(list, JSON.stringify(list)).toMatchObject({ ok: true });
    expect(server!.storeCli('fsck')).toEqual(['ok']);
  });

  it(`before login, ${LOGIN_CONNECTIONS} connections with mutated startup packs, negotiation answers and responses are each answered or closed, and none logs in without the password's proof`, { timeout: 600_000 }, async () => {
    const { host, port, zone } = server!;
    const account = server!.accounts.get('fuzzer')!;
    let logins = 0;
    let refusedLogins = 0;
    const connection = async (n: number): Promise<void> => {
      // one generator per connection: the lanes interleave, each connection's messages stay the same
      const random = randomFrom((SEED + Math.imul(n + 1, 2654435761)) & 0x7fffffff);
      const c = await WireConnection.open(host, port);
      try {
        const negotiate = random() < 0.3;
        let startup = startupPack(account.user, zone, negotiate ? { option: 'request_server_negotiation' } : {});
        if (random() < 0.6) startup = mutate(startup, random);
        c.send(frame('RODS_CONNECT', { msg: startup }));
        let m = await naming(`connection ${n}: startup pack ${JSON.stringify(startup.slice(0, 300))}`, c.next(ANSWER_MS));
        if (m?.type === 'RODS_CS_NEG_T') {
          let answer = '<CS_NEG_PI><status>1</status><result>cs_neg_result_kw=CS_NEG_USE_TCP;</result></CS_NEG_PI>';
          if (random() < 0.5) answer = mutate(answer, random);
          c.send(frame('RODS_CS_NEG_T', { msg: answer }));
          m = await naming(`connection ${n}: negotiation answer ${JSON.stringify(answer)}`, c.next(ANSWER_MS));
        }
        if (!m || m.intInfo < 0 || c.isServerClosed) return;
        const challengeReply = await naming(`connection ${n}: challenge request`, c.api(703, random() < 0.1 ? '<x>1</x>' : '', undefined, ANSWER_MS));
        const b64 = challengeReply && /<challenge>([^<]*)<\/challenge>/.exec(challengeReply.msg.toString('utf8'))?.[1];
        if (b64 === undefined || b64 === null) return;
        const proof = expectedResponse(Buffer.from(b64, 'base64'), account.password).toString('base64');
        let response = `<authResponseInp_PI><response>${proof}</response><username>${account.user}</username></authResponseInp_PI>`;
        if (random() < 0.7) response = mutate(response, random);
        const login = await naming(`connection ${n}: response ${JSON.stringify(response)}`, c.api(704, response, undefined, ANSWER_MS));
        if (login?.intInfo === 0) {
          logins++;
          expect(response, `connection ${n}: logged in with a response that has no proof of the password`).toContain(`<response>${proof}</response>`);
        } else refusedLogins++;
      } finally {
        c.destroy();
      }
    };
    // many at once, as the failed logins' answers are held back (LoginThrottle) and wait side by side
    const lanes = 25;
    await Promise.all(
      Array.from({ length: lanes }, async (_, lane) => {
        for (let i = lane; i < LOGIN_CONNECTIONS; i += lanes) await connection(i);
      }),
    );
    // some get through and some are refused: the mutations reach the login, not only the framing
    expect(logins).toBeGreaterThan(0);
    expect(refusedLogins).toBeGreaterThan(0);
    expect(server!.alive(), 'the server process is running').toBe(true);
    const [login, list] = await clientOps(server!.admin, [{ op: 'login' }, { op: 'list', path: `/${zone}/home/rods` }]);
    expect(login, JSON.stringify(login)).toMatchObject({ ok: true });
    expect(list, JSON.stringify(list)).toMatchObject({ ok: true });
  });
});
