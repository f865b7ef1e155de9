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
 * store consistent.
 *
 * Passes only with the server (src/irods, `taskflow store serve`).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientOps, IRODS_TEST_DIR, requireIrodsClient, runPython } from '../support/irods-client.js';
import { startIrodsStore, type IrodsStoreServer } from '../support/irods-store-server.js';
import { authenticated, type WireConnection, type WireMessage } from '../support/irods-wire.js';

/** Mutated requests sent; each names its index in a failure, so a seed and an index reproduce it. */
const REQUESTS = 10_000;
const SEED = 20261206;
/** How long one answer may take: far below any idle timeout. */
const ANSWER_MS = 10_000;
/** The server's progress reply of a collection removal and the client's "go on" (iRODS 4.2.12 rcMisc / rsRmColl). */
const SYS_SVR_TO_CLI_COLL_STAT = 99999996;
const SYS_CLI_TO_SVR_COLL_STAT_REPLY = 99999997;

/** APIs a mutated request may be sent to instead of its own: the served ones, and some a real server has that this one does not. */
const OTHER_APIS = [601, 602, 606, 608, 615, 626, 627, 629, 633, 652, 673, 674, 675, 676, 679, 681, 696, 700, 701, 702, 706, 707, 714, 722, 10215, 20000, 20002, 20004, 20007, 625, 723];
const NUMBERS = ['-1', '0', '2147483648', '-2147483649', '99999999999999999999', 'abc', '', '1e3', '0x10', ' 7 ', '-0', '4294967296'];
// never the fuzzing user's or rods's name: the run must not lock itself or the final check out
const TEXTS = ['x'.repeat(5000), '../..', '/', '', '\u0001', 'ü/€/😀', '&amp;&lt;&gt;', '%s%n', '/tempZone/../etc', '/tempZone/home/fuzzer/../../..', '/otherZone/x', 'relative/path', 'null', ' ', 'public'];

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
        // a reply that does not come names the request that asked for it
        const answer = (p: Promise<WireMessage | undefined>): Promise<WireMessage | undefined> =>
          p.catch((err: Error) => {
            throw new Error(`${what}: ${err.message}`);
          });
        let reply = await answer(c.api(api, body, bs, ANSWER_MS));
        while (reply?.intInfo === SYS_SVR_TO_CLI_COLL_STAT) {
          const goOn = Buffer.alloc(4);
          goOn.writeInt32BE(SYS_CLI_TO_SVR_COLL_STAT_REPLY);
          c.send(goOn);
          reply = await answer(c.next(ANSWER_MS));
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
});
