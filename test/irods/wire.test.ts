/**
 * The wire: XML packing and framing round trips, and a real server on a
 * real socket facing what hostile or broken clients send (oversized and
 * truncated headers, bodies that lie about their length, malformed XML,
 * unknown APIs, APIs before login, floods of connections). The server must
 * answer or close quickly, never crash, and keep serving the others.
 */
import { connect } from 'node:net';
import pino, { type Logger } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_IRODS_LIMITS, type IrodsServerLimits } from '../../src/irods/index.js';
import { AccessRules } from '../../src/irods/permissions.js';
import type { ApiRoute } from '../../src/irods/server/api.js';
import { NOTHING, STRUCT_AND_BYTES } from '../../src/irods/server/api-inputs.js';
import { listen, type RunningListener } from '../../src/irods/server/listener.js';
import { expectedResponse, LoginThrottle } from '../../src/irods/server/native-auth.js';
import { icatSiteOf } from '../../src/irods/specific-query/icat-views.js';
import { SpecificQueryRunner } from '../../src/irods/specific-query/runner.js';
import { IRODS_ERRORS } from '../../src/irods/wire/error-codes.js';
import { encodeHeader, frameMessage, JOINED_DATA_BYTES, MessageReader, DEFAULT_FRAME_LIMITS } from '../../src/irods/wire/framing.js';
import { IrodsError } from '../../src/irods/wire/irods-error.js';
import { child, keyValues, keyValuesField, many, text, type PiNode } from '../../src/irods/wire/pi-values.js';
import { decodePi, encodePi } from '../../src/irods/wire/xml.js';
import { NotFoundError } from '../../src/store/errors.js';
import { tempStore, type TempStore } from '../support/store-helpers.js';
import { connected, loggedIn, rawClient, STARTUP } from './support/raw-client.js';
import { PassThrough, Writable } from 'node:stream';

describe('XML packing', () => {
  it('round-trips nested, repeated, binary and escaped fields in order', () => {
    const bin = Buffer.from([0, 1, 2, 250, 255]);
    const xml = encodePi({
      name: 'GenQueryOut_PI',
      fields: {
        rowCnt: 2,
        big: 2n ** 60n,
        text: `a<b>&"c'd`,
        unicode: 'Grüße ✓ 𝄞',
        bin,
        KeyValPair_PI: keyValuesField(new Map([['k1', 'v1'], ['k2', '']])),
        SqlResult_PI: [
          { attriInx: 403, reslen: 5, value: ['x', 'y'] },
          { attriInx: 501, reslen: 5, value: ['z', ''] },
        ],
      },
    }).toString();
    expect(xml.indexOf('<rowCnt>')).toBeLessThan(xml.indexOf('<big>'));
    expect(xml).toContain('<text>a&lt;b&gt;&amp;&quot;c&apos;d</text>');
    const { name, node } = decodePi(xml);
    expect(name).toBe('GenQueryOut_PI');
    expect(text(node, 'rowCnt')).toBe('2');
    expect(text(node, 'big')).toBe('1152921504606846976');
    expect(text(node, 'text')).toBe(`a<b>&"c'd`);
    expect(text(node, 'unicode')).toBe('Grüße ✓ 𝄞');
    expect(Buffer.from(text(node, 'bin'), 'base64')).toEqual(bin);
    expect([...keyValues(node)]).toEqual([['k1', 'v1'], ['k2', '']]);
    const cols = many(node, 'SqlResult_PI') as PiNode[];
    expect(cols.map((c) => many(c, 'value'))).toEqual([['x', 'y'], ['z', '']]);
  });

  it('writes numbers in decimal digits, beyond 2^53 too, and refuses what is no number', () => {
    const xml = encodePi({ name: 'N_PI', fields: { a: 2 ** 60, b: -5, c: 0.25, d: Number.MAX_SAFE_INTEGER, e: 0 } }).toString();
    expect(xml).toBe('<N_PI><a>1152921504606846976</a><b>-5</b><c>0.25</c><d>9007199254740991</d><e>0</e></N_PI>\n');
    expect(() => encodePi({ name: 'N_PI', fields: { a: Number.NaN } })).toThrow(/cannot pack the number NaN/);
  });

  it('swaps apostrophe and backtick with clients older than 4.2.9, as iRODS does', () => {
    expect(encodePi({ name: 'STR_PI', fields: { myStr: "it's `x`" } }, { apos: 'legacy' }).toString()).toContain("<myStr>it's &apos;x&apos;</myStr>");
    expect(encodePi({ name: 'STR_PI', fields: { myStr: "it's `x`" } }).toString()).toContain('<myStr>it&apos;s `x`</myStr>');
    expect(text(decodePi("<STR_PI><myStr>it's &apos;x&apos;</myStr></STR_PI>", { apos: 'legacy' }).node, 'myStr')).toBe("it's `x`");
  });

  it('reads what python-irodsclient sends: ElementTree-style entities, character references, an XML declaration, whitespace between elements', () => {
    const { node } = decodePi(`<?xml version="1.0"?>\n<DataObjInp_PI>\n  <objPath>/z/a&amp;b&#233;&#x263A;</objPath>\n  <createMode>0</createMode>\n  <empty></empty><selfClosed/>\n</DataObjInp_PI>\n`);
    expect(text(node, 'objPath')).toBe('/z/a&bé☺');
    expect(text(node, 'empty')).toBe('');
    expect(text(node, 'selfClosed')).toBe('');
  });

  it('reads a body in the shape clients write as it reads the same body through the full scanner (which an XML declaration forces)', () => {
    const bodies = [
      '<OpenedDataObjInp_PI><l1descInx>3</l1descInx><len>0</len><whence>0</whence><oprType>0</oprType><offset>10</offset><bytesWritten>0</bytesWritten><KeyValPair_PI><ssLen>0</ssLen></KeyValPair_PI></OpenedDataObjInp_PI>',
      '<DataObjInp_PI><objPath>/z/home/a b/x.bin</objPath><KeyValPair_PI><ssLen>2</ssLen><keyWord>k</keyWord><keyWord>l</keyWord><svalue>v</svalue><svalue></svalue></KeyValPair_PI></DataObjInp_PI>\n',
      '<A>\n  <b> 1 </b>\n  <c><d>x>y</d></c>\n</A>',
      '<A> </A>',
    ];
    for (const body of bodies) {
      const fast = decodePi(body);
      expect(fast).toEqual(decodePi(`<?xml version="1.0"?>${body}`));
      expect(Object.getPrototypeOf(fast.node)).toBeNull();
    }
    expect(text(decodePi(bodies[2]!).node, 'b')).toBe(' 1 ');
    expect(many(child(decodePi(bodies[1]!).node, 'KeyValPair_PI'), 'keyWord')).toEqual(['k', 'l']);
  });

  it('freezes a decoding when asked: every node and list and the result, in both scanners, with the same content', () => {
    const bodies = [
      '<DataObjInp_PI><objPath>/z/x</objPath><KeyValPair_PI><ssLen>2</ssLen><keyWord>k</keyWord><keyWord>l</keyWord><svalue>v</svalue><svalue></svalue></KeyValPair_PI></DataObjInp_PI>\n',
      '<A><b><c>1</c><c><d>2</d></c><c><d>3</d><d>4</d></c></b><e/></A>',
      '<A> </A>',
      '<A/>',
    ];
    for (const body of bodies) {
      for (const input of [body, `<?xml version="1.0"?>${body}`]) {
        const frozen = decodePi(input, { freeze: true });
        expect(allFrozen(frozen)).toBe(true);
        expect(frozen).toEqual(decodePi(input));
        expect(Object.isFrozen(decodePi(input).node)).toBe(false);
      }
    }
  });

  it('keeps element names like __proto__ as plain data', () => {
    const { node } = decodePi('<X_PI><__proto__>p</__proto__><constructor>c</constructor></X_PI>');
    expect(text(node, '__proto__')).toBe('p');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(text({} as PiNode, 'constructor')).toBe('');
  });

  it.each([
    ['a DOCTYPE', '<!DOCTYPE x [<!ENTITY e "boom">]><X_PI>&e;</X_PI>', /DOCTYPE/],
    ['an unknown entity', '<X_PI><a>&e;</a></X_PI>', /unknown entity/],
    ['a comment', '<X_PI><!-- c --><a>1</a></X_PI>', /comments/],
    ['CDATA', '<X_PI><a><![CDATA[x]]></a></X_PI>', /CDATA/],
    ['a processing instruction', '<X_PI><?php x ?></X_PI>', /processing/],
    ['an attribute', '<X_PI><a b="1">x</a></X_PI>', /attributes/],
    ['mismatched tags', '<X_PI><a>1</b></X_PI>', /does not close/],
    ['an unclosed element', '<X_PI><a>1</a>', /not closed/],
    ['text mixed with elements', '<X_PI>t<a>1</a></X_PI>', /mixes text/],
    ['two roots', '<X_PI></X_PI><Y_PI></Y_PI>', /after the root/],
    ['deep nesting', `${'<a>'.repeat(40)}${'</a>'.repeat(40)}`, /deeper/],
    ['a NUL character reference', '<X_PI><a>&#0;</a></X_PI>', /not a character/],
    ['no element at all', '   ', /no root/],
  ])('refuses %s', (_what, xml, why) => {
    expect(() => decodePi(xml)).toThrow(why);
  });

  it('refuses bytes that are not UTF-8', () => {
    expect(() => decodePi(Buffer.from([0x3c, 0x58, 0x3e, 0xff, 0x3c, 0x2f, 0x58, 0x3e]))).toThrow(/UTF-8/);
  });

  it('parses a large body in linear time', () => {
    const body = (n: number) => `<SqlResult_PI><attriInx>1</attriInx>${Array.from({ length: n }, (_, i) => `<value>/zone/p/file-${i}&amp;x</value>`).join('')}</SqlResult_PI>`;
    // CPU time, best of three, so the machine's load does not decide: four times the body, about four times the time
    const cpu = (xml: string): number => {
      let best = Infinity;
      for (let i = 0; i < 3; i++) {
        const t = process.cpuUsage();
        expect(many(decodePi(xml).node, 'value').length).toBeGreaterThan(0);
        const u = process.cpuUsage(t);
        best = Math.min(best, u.user + u.system);
      }
      return best;
    };
    const small = cpu(body(20_000));
    const large = cpu(body(80_000));
    expect(large / small).toBeLessThan(10);
  });
});

describe('framing', () => {
  it('frames a message with few data bytes as one buffer (one write), with many as the packed part and the data uncopied', async () => {
    const body = encodePi({ name: 'X_PI', fields: { a: 1 } });
    const few = Buffer.alloc(JOINED_DATA_BYTES, 3);
    const many = Buffer.alloc(JOINED_DATA_BYTES + 1, 4);
    const small = frameMessage('RODS_API_REPLY', { intInfo: few.length, body, bs: few });
    const large = frameMessage('RODS_API_REPLY', { intInfo: many.length, body, bs: many });
    expect(small).toHaveLength(1);
    expect(large).toHaveLength(2);
    expect(large[1]).toBe(many);
    for (const [framed, bs] of [[small, few], [large, many]] as const) {
      const s = new PassThrough();
      const r = new MessageReader(s, DEFAULT_FRAME_LIMITS);
      s.write(Buffer.concat(framed));
      const m = (await r.next())!;
      expect(m.header).toMatchObject({ type: 'RODS_API_REPLY', intInfo: bs.length, msgLen: body.length, bsLen: bs.length });
      expect(m.body.equals(body)).toBe(true);
      expect(m.bs.equals(bs)).toBe(true);
    }
  });

  it('reads messages split at every byte and joined in one chunk alike, the data uncopied when one chunk holds it', async () => {
    const bs = Buffer.alloc(300_000, 7);
    const one = Buffer.concat([
      ...frameMessage('RODS_API_REQ', { intInfo: 676, body: encodePi({ name: 'X_PI', fields: { a: 1 } }), bs }),
      ...frameMessage('RODS_DISCONNECT'),
    ]);
    // one chunk
    const s1 = new PassThrough();
    const r1 = new MessageReader(s1, DEFAULT_FRAME_LIMITS);
    s1.write(one);
    const m1 = await r1.next();
    expect(m1!.header).toMatchObject({ type: 'RODS_API_REQ', intInfo: 676, bsLen: bs.length });
    // a view into the chunk that arrived, not a copy
    expect(m1!.bs.buffer).toBe(one.buffer);
    expect(m1!.bs.equals(bs)).toBe(true);
    expect((await r1.next())!.header.type).toBe('RODS_DISCONNECT');
    // byte by byte (the data in 3000 pieces)
    const s2 = new PassThrough();
    const r2 = new MessageReader(s2, DEFAULT_FRAME_LIMITS);
    const pending = r2.next();
    for (let i = 0; i < one.length; i += i < 400 ? 1 : 100) s2.write(one.subarray(i, Math.min(one.length, i + (i < 400 ? 1 : 100))));
    const m2 = await pending;
    expect(m2!.bs.equals(bs)).toBe(true);
    expect(decodePi(m2!.body).name).toBe('X_PI');
    expect((await r2.next())!.header.type).toBe('RODS_DISCONNECT');
    s2.end();
    expect(await r2.next()).toBeNull();
  });

  it('encodes headers as python-irodsclient 0.8.1 reads them', () => {
    const h = encodeHeader({ type: 'RODS_API_REPLY', msgLen: 10, errorLen: 0, bsLen: 5, intInfo: -808000 });
    expect(h.readUInt32BE(0)).toBe(h.length - 4);
    expect(h.subarray(4).toString()).toContain('<intInfo>-808000</intInfo>');
  });
});

// ---- a server with test routes

const seen: string[] = [];
const str = (s: string) => ({ name: 'STR_PI', fields: { myStr: s } });
/** Whether `v` and everything in it is frozen. */
const allFrozen = (v: unknown): boolean => typeof v !== 'object' || v === null || (Object.isFrozen(v) && Object.values(v).every(allFrozen));
const PACKED = encodePi({ name: 'fileLseekOut_PI', fields: { offset: 10240 } });

const ROUTES: ApiRoute[] = [
  {
    api: 9001,
    name: 'ECHO',
    inputs: STRUCT_AND_BYTES,
    handle: async (req) => ({ status: req.bs.length, body: { name: 'STR_PI', fields: { myStr: text(req.body, 'myStr') } }, bs: req.bs }),
  },
  { api: 9002, name: 'THROW_IRODS', inputs: NOTHING, handle: async () => Promise.reject(new IrodsError('CAT_NO_ACCESS_PERMISSION', 'alice needs write on /testZone/x')) },
  { api: 9003, name: 'THROW_STORE', inputs: NOTHING, handle: async () => Promise.reject(new NotFoundError('/testZone/x', 'collection')) },
  { api: 9004, name: 'THROW_BUG', inputs: NOTHING, handle: async () => Promise.reject(new TypeError('a bug')) },
  // refuses with the body's text as the message (a path a client named, say)
  { api: 9011, name: 'THROW_TEXT', handle: async (req) => Promise.reject(new IrodsError('CAT_UNKNOWN_FILE', text(req.body, 'myStr'))) },
  {
    api: 9005,
    name: 'EXCHANGE',
    inputs: NOTHING,
    handle: async (_req, ctx) => {
      const first = await ctx.connection.exchange({ status: 99999996, body: { name: 'STR_PI', fields: { myStr: 'progress' } } });
      return { status: first };
    },
  },
  {
    api: 9006,
    name: 'CLEANUP',
    handle: async (req, ctx) => {
      const tag = text(req.body, 'myStr');
      ctx.connection.onClose(() => void seen.push(`closed ${tag}`));
      return {};
    },
  },
  // one packed body, sent again and again (as a put's seeks are answered), with the status asked for
  { api: 9009, name: 'PACKED', handle: async (req) => ({ status: Number(text(req.body, 'myStr')), packed: PACKED }) },
  // 1 when the body a handler gets is frozen through and through
  { api: 9010, name: 'FROZEN', handle: async (req) => ({ status: allFrozen(req.body) ? 1 : 0 }) },
  { api: 9007, name: 'WHOAMI', inputs: NOTHING, handle: async (_req, ctx) => ({ body: { name: 'STR_PI', fields: { myStr: `${ctx.user.name} ${ctx.connection.clientSignature}` } } }) },
  {
    api: 9008,
    name: 'SLOW',
    inputs: NOTHING,
    handle: async (_req, ctx) => {
      ctx.connection.onClose(() => void seen.push('slow cleaned'));
      seen.push('slow started');
      await new Promise((r) => setTimeout(r, 300));
      seen.push('slow finished');
      return {};
    },
  },
];

async function testServer(t: TempStore, limits: Partial<IrodsServerLimits> = {}, log: Logger = pino({ level: process.env.IRODS_TEST_LOG ?? 'silent' })): Promise<RunningListener> {
  const all: IrodsServerLimits = { ...DEFAULT_IRODS_LIMITS, ...limits };
  return listen({
    host: '127.0.0.1',
    port: 0,
    maxConnections: all.maxConnections,
    shared: {
      store: t.store,
      routes: new Map(ROUTES.map((r) => [r.api, r])),
      access: new AccessRules(t.store.protocolCore().db),
      tls: undefined,
      limits: all,
      loginThrottle: new LoginThrottle(),
      // none of these routes runs a query, so it never starts a process
      specificQueries: new SpecificQueryRunner(icatSiteOf(t.store.protocolCore()), all.queryTimeoutMs),
      log,
    },
  });
}



describe('a server facing broken and hostile clients', () => {
  let t: TempStore;
  let srv: RunningListener;
  let port: number;
  beforeAll(async () => {
    t = tempStore();
    t.store.setPassword('rods', 'rods-pw');
    await t.store.createPrincipal('alice', 'rodsuser');
    t.store.setPassword('alice', 'alice-pw');
    srv = await testServer(t, { loginTimeoutMs: 400, idleTimeoutMs: 5000, maxMessageBytes: 32 * 1024 * 1024 });
    port = srv.address.port;
  });
  afterAll(async () => {
    await srv?.close();
    await t?.cleanup();
  });
  afterEach(async () => {
    // every test leaves a server that still serves a well-behaved client
    const c = await loggedIn(port, 'alice', 'alice-pw');
    c.send('RODS_API_REQ', { intInfo: 9001, body: str('still here') });
    expect((await c.reply()).body).toEqual({ myStr: 'still here' });
    c.close();
  });

  it('serves a logged-in client, with the data bytes both ways and the client signature of its challenge', async () => {
    const c = await loggedIn(port, 'alice', 'alice-pw');
    const data = Buffer.alloc(20 * 1024 * 1024, 0x5a);
    c.send('RODS_API_REQ', { intInfo: 9001, body: str('data'), bs: data });
    const r = await c.reply();
    expect(r.intInfo).toBe(data.length);
    expect(r.bs.equals(data)).toBe(true);
    c.send('RODS_API_REQ', { intInfo: 9007 });
    expect(text((await c.reply()).body, 'myStr')).toMatch(/^alice [0-9a-f]{32}$/);
    c.send('RODS_DISCONNECT');
    await c.closed;
  });

  it('serves nothing but login before authentication: unknown APIs SYS_UNMATCHED_API_NUM, known ones SYS_NO_API_PRIV', async () => {
    const c = await connected(port);
    c.send('RODS_API_REQ', { intInfo: 9001, body: str('x') });
    expect(await c.reply()).toMatchObject({ intInfo: IRODS_ERRORS.SYS_NO_API_PRIV });
    c.send('RODS_API_REQ', { intInfo: 123456 });
    expect(await c.reply()).toMatchObject({ intInfo: IRODS_ERRORS.SYS_UNMATCHED_API_NUM });
    // a response without a challenge, and a second response to one challenge, fail
    c.send('RODS_API_REQ', { intInfo: 704, body: { name: 'authResponseInp_PI', fields: { response: Buffer.alloc(16, 1), username: 'rods' } } });
    expect(await c.reply()).toMatchObject({ intInfo: IRODS_ERRORS.CAT_INVALID_AUTHENTICATION });
    c.send('RODS_API_REQ', { intInfo: 703 });
    const challenge = (await c.reply()).body!.challenge as string;
    expect(Buffer.from(challenge, 'base64').toString()).toMatch(/^[0-9a-f]{64}$/);
    c.send('RODS_API_REQ', { intInfo: 704, body: { name: 'authResponseInp_PI', fields: { response: Buffer.alloc(16, 1), username: 'rods' } } });
    expect(await c.reply()).toMatchObject({ intInfo: IRODS_ERRORS.CAT_INVALID_AUTHENTICATION });
    c.send('RODS_API_REQ', { intInfo: 9001, body: str('x') });
    expect(await c.reply()).toMatchObject({ intInfo: IRODS_ERRORS.SYS_NO_API_PRIV });
    c.close();
  });

  it('answers handler errors with their codes and messages, and stays usable', async () => {
    const c = await loggedIn(port, 'rods', 'rods-pw');
    c.send('RODS_API_REQ', { intInfo: 9002 });
    expect(await c.reply()).toMatchObject({ intInfo: IRODS_ERRORS.CAT_NO_ACCESS_PERMISSION, error: 'alice needs write on /testZone/x' });
    c.send('RODS_API_REQ', { intInfo: 9003 });
    expect(await c.reply()).toMatchObject({ intInfo: IRODS_ERRORS.CAT_UNKNOWN_COLLECTION, error: 'collection not found: /testZone/x' });
    c.send('RODS_API_REQ', { intInfo: 9004 });
    const bug = await c.reply();
    expect(bug.intInfo).toBe(IRODS_ERRORS.SYS_INTERNAL_NULL_INPUT_ERR);
    expect(bug.error).not.toContain('a bug');
    c.send('RODS_API_REQ', { intInfo: 123456 });
    expect(await c.reply()).toMatchObject({ intInfo: IRODS_ERRORS.SYS_UNMATCHED_API_NUM });
    c.send('RODS_API_REQ', { intInfo: 9001, body: '<STR_PI><myStr>unclosed</STR_PI>' });
    expect(await c.reply()).toMatchObject({ intInfo: IRODS_ERRORS.USER_PACKSTRUCT_INPUT_ERR });
    c.send('RODS_API_REQ', { intInfo: 9001, body: '<!DOCTYPE x [<!ENTITY a "aaaa">]><STR_PI><myStr>&a;</myStr></STR_PI>' });
    expect(await c.reply()).toMatchObject({ intInfo: IRODS_ERRORS.USER_PACKSTRUCT_INPUT_ERR });
    c.send('RODS_API_REQ', { intInfo: 9001, body: str('fine') });
    expect((await c.reply()).body).toEqual({ myStr: 'fine' });
    c.close();
  });

  it('cuts an error message to ERR_MSG_LEN - 1 bytes of UTF-8, where a C client can unpack it, before a character that would not fit', async () => {
    const c = await loggedIn(port, 'rods', 'rods-pw');
    // two-byte characters (a non-ASCII path), four-byte ones (two UTF-16 units each), one split by the bound
    for (const message of ['é'.repeat(900), '𝄞'.repeat(300), `${'a'.repeat(1022)}é`, 'a'.repeat(1023)]) {
      c.send('RODS_API_REQ', { intInfo: 9011, body: str(message) });
      const r = await c.reply();
      expect(r.intInfo).toBe(IRODS_ERRORS.CAT_UNKNOWN_FILE);
      const bytes = Buffer.byteLength(r.error!);
      expect(bytes, `${message.length} characters of ${message.slice(-1)}`).toBeLessThanOrEqual(1023);
      expect(bytes).toBeGreaterThan(1019);
      expect(message.startsWith(r.error!)).toBe(true);
    }
    c.close();
  });

  it('hands handlers frozen bodies, decoded afresh or the decoding of the same bytes reused', async () => {
    const c = await loggedIn(port, 'rods', 'rods-pw');
    for (const body of ['<A><k>1</k><k>2</k><n><x>y</x></n></A>', '<A><k>1</k><k>2</k><n><x>y</x></n></A>', '<B><m><k>1</k><k>2</k></m></B>', '<?xml version="1.0"?><B><m/></B>']) {
      c.send('RODS_API_REQ', { intInfo: 9010, body });
      expect((await c.reply()).intInfo).toBe(1);
    }
    c.close();
  });

  it('answers a reused packed body the same each time, with the status of each reply', async () => {
    const c = await loggedIn(port, 'rods', 'rods-pw');
    for (const status of [0, 0, 7, 0]) {
      c.send('RODS_API_REQ', { intInfo: 9009, body: str(String(status)) });
      const m = (await c.next())!;
      expect(m.header).toMatchObject({ type: 'RODS_API_REPLY', intInfo: status, msgLen: PACKED.length, errorLen: 0, bsLen: 0 });
      expect(m.body.equals(PACKED)).toBe(true);
    }
    c.close();
  });

  it('sends an intermediate reply and returns the 4-byte answer to the handler', async () => {
    const c = await loggedIn(port, 'rods', 'rods-pw');
    c.send('RODS_API_REQ', { intInfo: 9005 });
    const progress = await c.reply();
    expect(progress).toMatchObject({ intInfo: 99999996, body: { myStr: 'progress' } });
    const answer = Buffer.alloc(4);
    answer.writeInt32BE(99999997);
    c.write(answer);
    expect((await c.reply()).intInfo).toBe(99999997);
    c.close();
  });

  it('runs cleanups once when a client vanishes, and after the request in flight', async () => {
    const c = await loggedIn(port, 'rods', 'rods-pw');
    c.send('RODS_API_REQ', { intInfo: 9006, body: str('a') });
    await c.reply();
    seen.length = 0;
    c.send('RODS_API_REQ', { intInfo: 9008 });
    // gone mid-request (the handler runs 300 ms): the handler finishes, then the cleanups run
    await expect.poll(() => seen, { timeout: 5000 }).toEqual(['slow started']);
    seen.length = 0;
    c.close();
    await expect.poll(() => seen, { timeout: 5000 }).toEqual(['slow finished', 'closed a', 'slow cleaned']);
  });

  it('answers a header over 8 KiB, a zero or negative header length, with SYS_HEADER_READ_LEN_ERR and closes', async () => {
    for (const len of [9000, 0, -5]) {
      const c = await rawClient(port);
      const b = Buffer.alloc(4);
      b.writeInt32BE(len);
      c.write(b);
      expect(await c.reply()).toMatchObject({ intInfo: IRODS_ERRORS.SYS_HEADER_READ_LEN_ERR });
      await c.closed;
    }
  });

  it('answers a message longer than the bound with SYS_READ_MSG_BODY_LEN_ERR before reading it, and closes', async () => {
    const c = await loggedIn(port, 'rods', 'rods-pw');
    c.write(encodeHeader({ type: 'RODS_API_REQ', msgLen: 10, errorLen: 0, bsLen: 2 ** 31 - 1, intInfo: 9001 }));
    const r = await c.reply();
    expect(r.intInfo).toBe(IRODS_ERRORS.SYS_READ_MSG_BODY_LEN_ERR);
    expect(r.error).toMatch(/larger than this server accepts/);
    await c.closed;
    // the packed body has its own, smaller bound
    const d = await loggedIn(port, 'rods', 'rods-pw');
    d.write(encodeHeader({ type: 'RODS_API_REQ', msgLen: 17 * 1024 * 1024, errorLen: 0, bsLen: 0, intInfo: 9001 }));
    expect((await d.reply()).error).toMatch(/message body of 17825792 bytes/);
    await d.closed;
  });

  it('before login, refuses a message larger than a login needs as soon as its header is in, with SYS_HEADER_READ_LEN_ERR; after login the bounds are a logged-in client\'s', async () => {
    for (const lens of [{ msgLen: 14 * 1024 * 1024 }, { msgLen: 5000 }, { bsLen: 1024 * 1024 }, { errorLen: 1024 * 1024 }]) {
      const c = await rawClient(port);
      c.write(encodeHeader({ type: 'RODS_CONNECT', msgLen: 0, errorLen: 0, bsLen: 0, intInfo: 0, ...lens }));
      expect(await c.reply(), JSON.stringify(lens)).toMatchObject({ intInfo: IRODS_ERRORS.SYS_HEADER_READ_LEN_ERR });
      await c.closed;
    }
    const authenticating = await connected(port, 'alice');
    authenticating.write(encodeHeader({ type: 'RODS_API_REQ', msgLen: 14 * 1024 * 1024, errorLen: 0, bsLen: 0, intInfo: 704 }));
    expect(await authenticating.reply()).toMatchObject({ intInfo: IRODS_ERRORS.SYS_HEADER_READ_LEN_ERR });
    await authenticating.closed;
    const c = await loggedIn(port, 'alice', 'alice-pw');
    const long = 'x'.repeat(1024 * 1024);
    c.send('RODS_API_REQ', { intInfo: 9001, body: str(long), bs: Buffer.alloc(1024 * 1024) });
    expect((await c.reply()).body).toEqual({ myStr: long });
    c.close();
  });

  it('refuses malformed headers', async () => {
    for (const xml of ['<MsgHeader_PI><type>RODS_API_REQ</type></MsgHeader_PI>', 'not xml', '<MsgHeader_PI><type>X</type><msgLen>-1</msgLen><errorLen>0</errorLen><bsLen>0</bsLen><intInfo>0</intInfo></MsgHeader_PI>', '<MsgHeader_PI><type>X</type><msgLen>1e9</msgLen><errorLen>0</errorLen><bsLen>0</bsLen><intInfo>0</intInfo></MsgHeader_PI>']) {
      const c = await rawClient(port);
      const b = Buffer.alloc(4);
      b.writeInt32BE(Buffer.byteLength(xml));
      c.write(Buffer.concat([b, Buffer.from(xml)]));
      expect((await c.reply()).intInfo).toBe(IRODS_ERRORS.SYS_HEADER_READ_LEN_ERR);
      await c.closed;
    }
  });

  it('closes connections that stop mid-header or mid-body, or never send, after the idle bound', async () => {
    const started = Date.now();
    const truncatedHeader = await rawClient(port);
    truncatedHeader.write(Buffer.from([0, 0, 0, 120, 0x3c]));
    const lyingBody = await connected(port);
    lyingBody.write(encodeHeader({ type: 'RODS_API_REQ', msgLen: 1000, errorLen: 0, bsLen: 0, intInfo: 703 }));
    lyingBody.write('<short/>');
    const silent = await rawClient(port);
    await Promise.all([truncatedHeader.closed, lyingBody.closed, silent.closed]);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('closes a connection that does not log in within the login bound, however busy it keeps it', async () => {
    const c = await connected(port);
    const started = Date.now();
    const ticker = setInterval(() => c.send('RODS_API_REQ', { intInfo: 703 }), 100);
    await c.closed;
    clearInterval(ticker);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('survives clients that end or reset mid-message', async () => {
    for (let i = 0; i < 20; i++) {
      const c = await connected(port);
      c.write(encodeHeader({ type: 'RODS_API_REQ', msgLen: 500, errorLen: 0, bsLen: 100, intInfo: 703 }).subarray(0, 10 + i * 7));
      if (i % 2) c.socket.end();
      else c.socket.resetAndDestroy();
    }
  });

  it('answers a startup that is not one: another type first, malformed XML, the binary protocol', async () => {
    const other = await rawClient(port);
    other.send('RODS_API_REQ', { intInfo: 703 });
    expect((await other.reply()).intInfo).toBe(IRODS_ERRORS.SYS_HEADER_TPYE_LEN_ERR);
    await other.closed;
    const bad = await rawClient(port);
    bad.send('RODS_CONNECT', { body: '<StartupPack_PI><irodsProt>1</irodsProt>' });
    const r = await bad.reply();
    expect(r.type).toBe('RODS_VERSION');
    expect(text(r.body, 'status')).toBe(String(IRODS_ERRORS.USER_PACKSTRUCT_INPUT_ERR));
    await bad.closed;
    const binary = await rawClient(port);
    binary.send('RODS_CONNECT', { body: STARTUP('rods', 'testZone', { irodsProt: 0 }) });
    const b = await binary.reply();
    expect(text(b.body, 'status')).toBe(String(IRODS_ERRORS.SYS_INVALID_PROTOCOL_TYPE));
    expect(b.error).toMatch(/only the XML protocol/);
    await binary.closed;
  });

  it('keeps serving through a thousand connections opened and dropped', async () => {
    const before = process.memoryUsage().rss;
    for (let round = 0; round < 10; round++) {
      await Promise.all(
        Array.from({ length: 100 }, async (_, i) => {
          const s = connect({ host: '127.0.0.1', port });
          s.on('error', () => undefined);
          await new Promise<void>((r) => s.once('connect', () => r()));
          if (i % 3 === 0) s.write(frameMessage('RODS_CONNECT', { body: encodePi(STARTUP()) })[0]!);
          if (i % 3 === 1) s.write(Buffer.from([0, 0, 0, 50]));
          s.destroy();
        }),
      );
    }
    await expect.poll(() => srv.connections, { timeout: 10_000 }).toBe(0);
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024);
  });
});

describe('limits', () => {
  it('answers connections beyond the limit of logged-in clients with SYS_EXCEED_CONNECT_CNT, and serves again when one ends', async () => {
    const t = tempStore();
    t.store.setPassword('rods', 'rods-pw');
    const srv = await testServer(t, { maxConnections: 2 });
    try {
      const a = await loggedIn(srv.address.port, 'rods', 'rods-pw');
      const b = await loggedIn(srv.address.port, 'rods', 'rods-pw');
      const c = await rawClient(srv.address.port);
      c.send('RODS_CONNECT', { body: STARTUP() });
      const refused = await c.reply();
      expect(refused.intInfo).toBe(IRODS_ERRORS.SYS_EXCEED_CONNECT_CNT);
      expect(refused.error).toMatch(/limit of 2 connections/);
      a.send('RODS_DISCONNECT');
      await a.closed;
      await expect.poll(() => srv.connections).toBe(1);
      const d = await loggedIn(srv.address.port, 'rods', 'rods-pw');
      d.close();
      b.close();
    } finally {
      await srv.close();
      await t.cleanup();
    }
  });

  it('counts connections that have not logged in apart: silent ones neither keep a client from logging in nor outlast the startup bound', async () => {
    const t = tempStore();
    t.store.setPassword('rods', 'rods-pw');
    const srv = await testServer(t, { maxConnections: 2, startupTimeoutMs: 300 });
    try {
      // more silent sockets than the limit: the oldest makes room for each new one
      const silent = await Promise.all(Array.from({ length: 3 }, () => rawClient(srv.address.port)));
      const a = await loggedIn(srv.address.port, 'rods', 'rods-pw');
      const b = await loggedIn(srv.address.port, 'rods', 'rods-pw');
      // closed to make room, or at the startup bound, long before the login bound (30 s)
      await Promise.all(silent.map((s) => s.closed));
      a.close();
      b.close();
    } finally {
      await srv.close();
      await t.cleanup();
    }
  });

  it('refuses a login with SYS_EXCEED_CONNECT_CNT when others logged in up to the limit meanwhile', async () => {
    const t = tempStore();
    t.store.setPassword('rods', 'rods-pw');
    const srv = await testServer(t, { maxConnections: 2 });
    try {
      const late = await connected(srv.address.port);
      const first = await loggedIn(srv.address.port, 'rods', 'rods-pw');
      const second = await loggedIn(srv.address.port, 'rods', 'rods-pw');
      late.send('RODS_API_REQ', { intInfo: 703 });
      const challenge = Buffer.from((await late.reply()).body!.challenge as string, 'base64');
      late.send('RODS_API_REQ', { intInfo: 704, body: { name: 'authResponseInp_PI', fields: { response: expectedResponse(challenge, 'rods-pw'), username: 'rods' } } });
      const refused = await late.reply();
      expect(refused.intInfo).toBe(IRODS_ERRORS.SYS_EXCEED_CONNECT_CNT);
      expect(refused.error).toMatch(/limit of 2 connections/);
      await late.closed;
      first.close();
      second.close();
    } finally {
      await srv.close();
      await t.cleanup();
    }
  });

  it('close() ends every connection and runs its cleanups', async () => {
    const t = tempStore();
    t.store.setPassword('rods', 'rods-pw');
    const srv = await testServer(t);
    const c = await loggedIn(srv.address.port, 'rods', 'rods-pw');
    c.send('RODS_API_REQ', { intInfo: 9006, body: str('on shutdown') });
    await c.reply();
    seen.length = 0;
    await srv.close();
    expect(seen).toEqual(['closed on shutdown']);
    await c.closed;
    await t.cleanup();
  });
});

describe('the log', () => {
  /** One line of the server's log, parsed. */
  type LogLine = { level: number; msg: string; connections?: number; max?: number };
  /** A logger at info writing into the returned array of parsed lines. */
  const captured = (): { log: Logger; lines: LogLine[] } => {
    const lines: LogLine[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as LogLine);
        done();
      },
    });
    return { log: pino({ level: 'info' }, sink), lines };
  };

  it('logs a flood of refused connections as a burst: the first at once, the rest as counts, not a line each', async () => {
    const t = tempStore();
    t.store.setPassword('rods', 'rods-pw');
    const { log, lines } = captured();
    const refusals = () => lines.filter((l) => l.msg === 'connection refused: limit reached');
    const srv = await testServer(t, { maxConnections: 1 }, log);
    const FLOOD = 30;
    try {
      const a = await loggedIn(srv.address.port, 'rods', 'rods-pw');
      for (let i = 0; i < FLOOD; i++) {
        const c = await rawClient(srv.address.port);
        c.send('RODS_CONNECT', { body: STARTUP() });
        // the first is answered; a later one may be dropped unanswered while the last refusal's socket closes
        if (i === 0) expect((await c.reply()).intInfo).toBe(IRODS_ERRORS.SYS_EXCEED_CONNECT_CNT);
        await c.closed;
      }
      // the first at once; the others counted (a line per 10 s while they last: a slow run may see one)
      expect(refusals()[0]).toEqual(expect.objectContaining({ level: 40, connections: 1, max: 1 }));
      expect(refusals().length).toBeLessThan(4);
      a.close();
    } finally {
      await srv.close();
      await t.cleanup();
    }
    // the server's close logs what was counted: every refusal is in the log, as a count
    expect(refusals().reduce((n, l) => n + l.connections!, 0)).toBe(FLOOD);
    expect(refusals().length).toBeLessThan(5);
  });

  it('takes a malformed negotiation answer, refused with USER_PACKSTRUCT_INPUT_ERR, as a client error (info), not as a fault of the server', async () => {
    const t = tempStore();
    const { log, lines } = captured();
    const srv = await testServer(t, {}, log);
    try {
      const c = await rawClient(srv.address.port);
      c.send('RODS_CONNECT', { body: STARTUP('rods', 'testZone', { option: ';request_server_negotiation' }) });
      expect((await c.reply()).type).toBe('RODS_CS_NEG_T');
      c.send('RODS_CS_NEG_T', { body: '<CS_NEG_PI><status>1</status' });
      const r = await c.reply();
      expect(r.type).toBe('RODS_VERSION');
      expect(r.intInfo).toBe(IRODS_ERRORS.USER_PACKSTRUCT_INPUT_ERR);
      expect(r.error).toMatch(/malformed negotiation answer/);
      await c.closed;
      // pino level 50 is error
      expect(lines.filter((l) => l.level >= 50)).toEqual([]);
      expect(lines).toContainEqual(expect.objectContaining({ level: 30, msg: 'negotiation refused' }));
    } finally {
      await srv.close();
      await t.cleanup();
    }
  });
});
