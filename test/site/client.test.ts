/**
 * The site callback client against real local HTTP servers: the form it
 * sends, its answers and errors, one kept-alive connection for many
 * callbacks, a connection the site closed while idle, and the deadline.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SiteCallError, SiteClient } from '../../src/site/client.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

interface Received {
  url: string;
  contentType: string | undefined;
  form: URLSearchParams;
  socket: Socket;
}

async function site(answer: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ url: req.url ?? '', contentType: req.headers['content-type'], form: new URLSearchParams(body), socket: req.socket });
      answer(req, res, body);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, server };
}

const client = (timeoutMs = 5000): SiteClient => new SiteClient({ secret: 's3cret', timeoutMs });

describe('SiteClient', () => {
  it('posts the fields as a form with the secret and returns the answer', async () => {
    const s = await site((_req, res) => res.end('OK'));
    expect(await client().post(`${s.url}/`, 'timeline/taskflow/status/set', { event_uuid: 'e1', ok: true, extra: { a: 1 }, none: null, skip: undefined })).toBe('OK');
    expect(s.received).toHaveLength(1);
    const [r] = s.received;
    expect(r.url).toBe('/timeline/taskflow/status/set');
    expect(r.contentType).toBe('application/x-www-form-urlencoded');
    expect([...r.form]).toEqual([
      ['event_uuid', 'e1'],
      ['ok', 'True'],
      ['extra', '{"a":1}'],
      ['none', ''],
      ['sodar_secret', 's3cret'],
    ]);
  });

  it('sends many callbacks over one kept-alive connection', async () => {
    const s = await site((_req, res) => res.end('ok'));
    const c = client();
    for (let i = 0; i < 5; i++) await c.post(s.url, 'x', { i });
    expect(new Set(s.received.map((r) => r.socket)).size).toBe(1);
  });

  it('one client calls back several sites and endpoints, each at its own URL, query included', async () => {
    const a = await site((_req, res) => res.end('a'));
    const b = await site((_req, res) => res.end('b'));
    const c = client();
    for (let i = 0; i < 3; i++) {
      expect(await c.post(a.url, 'one', { i })).toBe('a');
      expect(await c.post(`${b.url}/base/`, 'two?x=1', { i })).toBe('b');
      expect(await c.post(a.url, 'three', { i })).toBe('a');
    }
    expect(a.received.map((r) => r.url)).toEqual(['/one', '/three', '/one', '/three', '/one', '/three']);
    expect(b.received.map((r) => r.url)).toEqual(['/base/two?x=1', '/base/two?x=1', '/base/two?x=1']);
    expect(b.received.map((r) => r.form.get('i'))).toEqual(['0', '1', '2']);
  });

  it('a status other than 200 is a SiteCallError with the status and the answer', async () => {
    const s = await site((_req, res) => res.writeHead(404).end('no such zone'));
    const err = await client().post(s.url, 'landingzones/taskflow/status/set', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SiteCallError);
    expect(err).toMatchObject({ status: 404, body: 'no such zone', endpoint: 'landingzones/taskflow/status/set' });
  });

  it('a site that cannot be reached, or a URL that is none, is status 0 with the reason', async () => {
    const s = await site((_req, res) => res.end('ok'));
    const url = s.url;
    await new Promise<void>((r) => s.server.close(() => r()));
    await expect(client().post(url, 'x', {})).rejects.toMatchObject({ status: 0, message: expect.stringMatching(/could not reach .*ECONNREFUSED/) });
    await expect(client().post('ftp://example.org', 'x', {})).rejects.toMatchObject({ status: 0, message: expect.stringMatching(/not an http or https URL/) });
    await expect(client().post('not a url', 'x', {})).rejects.toMatchObject({ status: 0, message: expect.stringMatching(/not a URL/) });
  });

  it('a kept-alive connection the site closed in the meantime is replaced by a new one', async () => {
    let n = 0;
    const s = await site((_req, res) => res.end(`answer ${++n}`));
    const c = client();
    expect(await c.post(s.url, 'x', {})).toBe('answer 1');
    // the site drops the idle connection without telling (no FIN before the next request is written: a reset)
    for (const r of s.received) r.socket.resetAndDestroy();
    expect(await c.post(s.url, 'x', {})).toBe('answer 2');
    expect(s.received).toHaveLength(2);
  });

  it('tells a site out of reach for now (try later) from one that refused the call or cannot be called', async () => {
    const later = async (url: string): Promise<boolean> => ((await client(200).post(url, 'x', {}).catch((e: unknown) => e)) as SiteCallError).retryLater;
    for (const status of [502, 503, 504]) expect(await later((await site((_req, res) => res.writeHead(status).end('down'))).url), `status ${status}`).toBe(true);
    // SODAR answers 500 for a request its view cannot take (a missing field, a value Django refuses), and 4xx for a refusal
    for (const status of [400, 403, 404, 500]) expect(await later((await site((_req, res) => res.writeHead(status).end('no'))).url), `status ${status}`).toBe(false);
    expect(await later((await site((_req, res) => res.writeHead(200).write('part'))).url)).toBe(true); // no complete answer in time
    const gone = await site((_req, res) => res.end('ok'));
    await new Promise<void>((r) => gone.server.close(() => r()));
    expect(await later(gone.url)).toBe(true); // connection refused
    expect(await later('ftp://example.org')).toBe(false);
    expect(await later('not a url')).toBe(false);
  });

  it('gives up at the deadline when no complete answer comes', async () => {
    const s = await site((_req, res) => {
      res.writeHead(200);
      res.write('part');
    });
    await expect(client(200).post(s.url, 'x', {})).rejects.toMatchObject({ status: 0, message: expect.stringMatching(/no complete answer within 200 ms/) });
  });
});
