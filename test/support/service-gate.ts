/**
 * A gate in front of the test site: forwards every callback unchanged,
 * except calls to chosen endpoints, which it holds until the test opens the
 * gate. Lets a test keep a run in the middle of a task (holding its project
 * lock) for exactly as long as it needs, without sleeps.
 *
 * @module
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running gate. */
export interface SiteGate {
  /** Base URL to pass as `sodar_url`. */
  readonly url: string;
  /** Resolves when a call to a held endpoint has arrived (and is being held). */
  held(): Promise<string>;
  /** Lets every held call (and all later ones) through. */
  open(): void;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Starts a gate forwarding to `siteUrl` that holds calls to `endpoints`. */
export async function startSiteGate(siteUrl: string, endpoints: readonly string[]): Promise<SiteGate> {
  let opened = false;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let arrived!: (endpoint: string) => void;
  const firstHeld = new Promise<string>((r) => (arrived = r));
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const endpoint = (req.url ?? '/').replace(/^\/+/, '');
      if (!opened && endpoints.includes(endpoint)) {
        arrived(endpoint);
        await gate;
      }
      const answer = await fetch(`${siteUrl}/${endpoint}`, {
        method: req.method,
        headers: { 'content-type': req.headers['content-type'] ?? '' },
        body: req.method === 'POST' ? body : undefined,
      });
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' });
      res.end(await answer.text());
    })().catch((err: unknown) => {
      res.writeHead(502);
      res.end(String(err));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    held: () => firstHeld,
    open() {
      opened = true;
      release();
    },
    close: () =>
      new Promise<void>((r) => {
        release();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
