/**
 * Hostile input: a seeded pseudo-random stream of malformed, mistyped,
 * oversized and path-traversing submits gets only designed answers, the
 * process keeps serving, and neither the store nor the site changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowNames } from '../../src/flows/index.js';
import { TEST_SECRET, postJson, startServiceFixture, type ServiceFixture } from '../support/service-harness.js';
import { mulberry32 } from '../support/prng.js';
import { projectCreateBody } from '../support/service-flows.js';
import { createZone, defaultZone } from '../support/service-zone.js';

const SEED = 0x5eed_2026;
const COUNT = 500;
const BODY_LIMIT = 64 * 1024;
const PROJECT = 'f0f0f0f0-0000-4000-8000-000000000007';
const OTHER = 'f1f1f1f1-0000-4000-8000-000000000008';

/** Floats in [0, 1), reproducibly from the seed. */
function prng(seed: number): () => number {
  const next = mulberry32(seed);
  return () => next() / 4294967296;
}

let fx: ServiceFixture;
beforeAll(async () => {
  fx = await startServiceFixture({ TASKFLOW_BODY_LIMIT: String(BODY_LIMIT) });
  await createZone(fx.service.url, fx.site, PROJECT, defaultZone());
  expect((await fx.submit(projectCreateBody(OTHER, fx.site.url))).status).toBe(200);
});
afterAll(async () => {
  await fx?.close();
});

/** One hostile request: a raw body and a content type. */
interface Hostile {
  kind: string;
  body: string;
  contentType: string;
}

function hostileStream(count: number): Hostile[] {
  const rnd = prng(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const zone = `/${'omicsZone'}`;
  const projectPath = `${zone}/projects/${PROJECT.slice(0, 2)}/${PROJECT}`;
  const otherPath = `${zone}/projects/${OTHER.slice(0, 2)}/${OTHER}`;
  const badPaths = [
    `${projectPath}/../${OTHER}`,
    `${projectPath}/sample_data/../../../${OTHER.slice(0, 2)}/${OTHER}`,
    otherPath,
    `${otherPath}/sample_data`,
    `${zone}/trash`,
    `${zone}/projects`,
    zone,
    '/',
    '',
    '/etc/passwd',
    '../../etc/passwd',
    `${projectPath}/landing_zones/../..`,
    `${projectPath}\u0000/sample_data`,
    `${projectPath}/${'x'.repeat(300)}`,
    `${projectPath}/sample_data/%2e%2e/%2e%2e`,
    `${projectPath.toUpperCase()}`,
    `//${projectPath}`,
    `${projectPath}/./../../..`,
    'relative/path',
  ];
  const junk = (): unknown =>
    pick([null, 0, -1, 1e308, true, false, '', ' ', '\u0000', 'x'.repeat(1000), [], [null], {}, { a: { b: [1] } }, ['irods', 3]]);
  const base = (): Record<string, unknown> => ({
    project_uuid: PROJECT,
    flow_name: pick(flowNames),
    flow_data: {},
    request_mode: pick(['sync', 'async']),
    targets: ['irods', 'sodar'],
    force_fail: false,
    timeline_uuid: 'None',
    sodar_secret: TEST_SECRET,
    test_mode: true,
    sodar_url: fx.site.url,
  });
  const out: Hostile[] = [];
  for (let i = 0; i < count; i++) {
    const r = rnd();
    const json = 'application/json';
    if (r < 0.15) {
      // malformed JSON: a valid body cut short, or bytes that are not JSON
      const text = JSON.stringify(base());
      const body = rnd() < 0.5 ? text.slice(0, Math.floor(rnd() * text.length)) : pick(['{', '}', '[', 'nul', '{"a":}', '\u00ff\u00fe', '{"project_uuid": "x",}', "{'a': 1}", 'NaN']);
      out.push({ kind: 'malformed', body, contentType: json });
    } else if (r < 0.35) {
      // a field of the wrong type or missing
      const b = base();
      const field = pick(['project_uuid', 'flow_name', 'request_mode', 'targets', 'sodar_secret', 'flow_data', 'force_fail', 'timeline_uuid', 'sodar_url', 'test_mode']);
      if (rnd() < 0.3) delete b[field];
      else b[field] = junk();
      if (field === 'flow_data' || field === 'force_fail' || field === 'timeline_uuid' || field === 'test_mode') {
        b.sodar_secret = rnd() < 0.5 ? 'wrong' : b.sodar_secret; // keep them from running
        if (b.sodar_secret === TEST_SECRET) b.flow_name = 'no_such_flow';
      }
      out.push({ kind: `mistyped:${field}`, body: JSON.stringify(b), contentType: json });
    } else if (r < 0.45) {
      // oversized
      const b = base();
      b.flow_data = { paths: Array.from({ length: 10 }, () => 'y'.repeat(BODY_LIMIT / 8)) };
      out.push({ kind: 'oversized', body: JSON.stringify(b), contentType: json });
    } else if (r < 0.75) {
      // path traversal through the flows that take paths
      const b = base();
      b.request_mode = 'sync';
      if (rnd() < 0.5) {
        b.flow_name = 'data_delete';
        b.flow_data = { paths: rnd() < 0.5 ? [pick(badPaths)] : [pick(badPaths), pick(badPaths)] };
      } else {
        b.flow_name = 'public_access_update';
        b.flow_data = { path: pick(badPaths), access: rnd() < 0.5 };
      }
      out.push({ kind: `traversal:${b.flow_name}`, body: JSON.stringify(b), contentType: json });
    } else if (r < 0.85) {
      // hostile identifiers
      const b = base();
      b.project_uuid = pick(['..', '.', '/', 'a/b', '../' + OTHER, 'None', '%2e%2e', 'x'.repeat(5000), '\u0000', ' ']);
      b.flow_data = { username: pick(['..', 'a/b', '', 'rods', '\u0000']), user_uuid: 'u', role_pk: 3, paths: [pick(badPaths)] };
      b.flow_name = pick(['role_update', 'role_delete', 'data_delete', 'sheet_delete', 'project_create']);
      b.request_mode = 'sync';
      out.push({ kind: 'identifiers', body: JSON.stringify(b), contentType: json });
    } else if (r < 0.93) {
      // wrong secret or unknown flow with anything else valid
      const b = base();
      if (rnd() < 0.5) b.sodar_secret = pick(['wrong', TEST_SECRET + ' ', TEST_SECRET.toUpperCase(), TEST_SECRET.slice(1)]);
      else b.flow_name = pick(['nope', '../project_create', 'PROJECT_CREATE', '__proto__', 'constructor']);
      out.push({ kind: 'auth-or-flow', body: JSON.stringify(b), contentType: json });
    } else {
      // not JSON at all
      out.push({
        kind: 'content-type',
        body: 'project_uuid=x&sodar_secret=' + TEST_SECRET,
        contentType: pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml']),
      });
    }
  }
  return out;
}

/** What each status may say. */
const DESIGNED: Record<number, RegExp> = {
  400: /^(Missing or invalid argument: "\w+"|Error validating flow: .+|Malformed JSON body: .+|Request body is empty: .+|Bad request: .+)$/s,
  403: /^Not authorized$/,
  413: /^Request body too large: the limit is \d+ bytes$/,
  415: /^Unsupported content type: send application\/json$/,
  501: /^Flow ".*" not supported$/s,
  // batches of 10 submits run at once on one project and the fixture never retries a lock: a submit
  // that meets another's run (held until its end is fsynced, off the event loop) gets protocol 2's busy answer
  503: /^Unable to acquire project lock$/,
  // a literal name such as `%2e%2e` is a legal path inside the project: the run fails on it and rolls back
  500: /^Error (running|building) flow: .+/s,
};

describe('hostile input', () => {
  it(`${COUNT} seeded hostile submits get only designed answers and change nothing`, async () => {
    const store = await fx.service.store();
    const dumpBefore = await store.dump();
    const siteBefore = fx.site.state();
    const stream = hostileStream(COUNT);
    const undesigned: string[] = [];
    const kinds = new Map<string, number>();
    for (let i = 0; i < stream.length; i += 10) {
      const batch = stream.slice(i, i + 10);
      const answers = await Promise.all(
        batch.map(async (h) => {
          const res = await fetch(`${fx.service.url}/submit`, { method: 'POST', headers: { 'content-type': h.contentType }, body: h.body });
          return { h, status: res.status, body: await res.text() };
        }),
      );
      for (const { h, status, body } of answers) {
        kinds.set(`${h.kind} ${status}`, (kinds.get(`${h.kind} ${status}`) ?? 0) + 1);
        const rule = DESIGNED[status];
        if (!rule || !rule.test(body)) undesigned.push(`${h.kind}: ${status} ${body.slice(0, 200)} <- ${h.body.slice(0, 200)}`);
      }
    }
    expect(undesigned).toEqual([]);
    // the stream really exercised every class of answer
    const statuses = new Set([...kinds.keys()].map((k) => Number(k.split(' ').pop())));
    expect([...statuses].sort()).toEqual(expect.arrayContaining([400, 403, 413, 415, 501]));

    expect((await fetch(`${fx.service.url}/hello`)).status).toBe(200);
    expect(await store.dump()).toEqual(dumpBefore);
    expect(fx.site.state()).toEqual(siteBefore);
    const fsck = await store.fsck();
    expect([fsck.missingFiles, fsck.orphanFiles]).toEqual([[], []]);
  });
});

/** `depth` arrays inside each other: JSON that parses (slowly), and overflows any recursive walk of it. */
const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
const TOO_DEEP = 'Request body refused: JSON nested too deeply: more than 64 levels of arrays and objects';

describe('deeply nested and mistyped bodies', () => {
  it('answers 400 "nested too deeply" on /submit and /cleanup before parsing, with or without a secret, and changes nothing', async () => {
    const store = await fx.service.store();
    const dumpBefore = await store.dump();
    const deep = nested(BODY_LIMIT / 2 - 64);
    for (const body of [deep, `{"sodar_secret":${deep}}`, `{"sodar_secret":"${TEST_SECRET}","flow_data":${deep}}`]) {
      for (const route of ['submit', 'cleanup']) {
        const res = await fetch(`${fx.service.url}/${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        expect([route, res.status, await res.text()]).toEqual([route, 400, TOO_DEEP]);
      }
    }
    // nesting up to the bound still reaches the submit checks
    const inside = { ...projectCreateBody(PROJECT, fx.site.url), sodar_secret: 'wrong', flow_data: { x: JSON.parse(nested(62)) } }; // 64 levels with the body and flow_data
    expect((await fx.submit(inside)).status).toBe(403);
    expect((await fetch(`${fx.service.url}/hello`)).status).toBe(200);
    expect(await store.dump()).toEqual(dumpBefore);
  });

  it('a sodar_secret that is not a string is a bad argument (/submit 400) or not authorized (/cleanup 403), never a 500', async () => {
    const strict = await startServiceFixture({ TASKFLOW_TEST_MODE: 'false', TASKFLOW_ALLOW_IRODS_CLEANUP: 'true', TASKFLOW_SODAR_SECRET: '12345' });
    try {
      for (const secret of [12345, [12345], ['12345'], { a: '12345' }, true, null]) {
        const submit = await postJson(`${strict.service.url}/submit`, { ...projectCreateBody(PROJECT, strict.site.url), sodar_secret: secret });
        expect({ secret, ...submit }).toEqual({ secret, status: 400, body: 'Missing or invalid argument: "sodar_secret"' });
        const cleanup = await postJson(`${strict.service.url}/cleanup`, { sodar_secret: secret });
        expect({ secret, ...cleanup }).toEqual({ secret, status: 403, body: 'Not authorized' });
      }
    } finally {
      await strict.close();
    }
  });
});

describe('several large nested bodies at once, at the default body limit', () => {
  let big: ServiceFixture;
  beforeAll(async () => {
    big = await startServiceFixture();
  });
  afterAll(async () => {
    await big?.close();
  });

  it('each gets 400 without being parsed, /hello answers meanwhile, and the service does not grow by the nested values', async () => {
    const deep = nested(4 * 1024 * 1024); // 8 MB, within the default 16 MiB
    const peakBefore = process.resourceUsage().maxRSS * 1024;
    const posts = Array.from({ length: 4 }, async () => {
      const res = await fetch(`${big.service.url}/submit`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: deep });
      return [res.status, await res.text()];
    });
    const hello = fetch(`${big.service.url}/hello`).then((r) => r.status);
    expect(await Promise.all(posts)).toEqual(Array(4).fill([400, TOO_DEEP]));
    expect(await hello).toBe(200);
    // parsed, each such body is millions of nested arrays (hundreds of MB); refused, only its text
    const grew = process.resourceUsage().maxRSS * 1024 - peakBefore;
    expect(grew).toBeLessThan(400 * 1024 * 1024);
  });
});
