/**
 * The test site behind an address that can go away: forwards every callback
 * unchanged while up; while down nothing listens there, so a callback meets
 * a refused connection, as when the site is stopped or not started yet.
 * Brought up again on the same port, so the runs that journaled its URL
 * reach it again.
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A site address that can be taken down and brought back. */
export interface SiteOutage {
  /** Base URL to pass as `sodar_url`. */
  readonly url: string;
  /** Stops listening (and drops open connections): callbacks are refused. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Starts forwarding to `siteUrl`, up. */
export async function startSiteOutage(siteUrl: string): Promise<SiteOutage> {
  let server: Server | undefined;
  let port = 0;
  const listen = async (): Promise<void> => {
    const s = createServer((req, res) => {
      void (async () => {
        const body = await readBody(req);
        const answer = await fetch(`${siteUrl}${req.url ?? '/'}`, {
          method: req.method,
          headers: { 'content-type': req.headers['content-type'] ?? '' },
          body: req.method === 'POST' ? body : undefined,
        });
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' });
        res.end(await answer.text());
      })().catch(() => res.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    port = (s.address() as AddressInfo).port;
    server = s;
  };
  await listen();
  return {
    url: `http://127.0.0.1:${port}`,
    down: async () => {
      const s = server;
      server = undefined;
      if (s === undefined) return;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    up: async () => {
      if (server === undefined) await listen();
    },
  };
}
