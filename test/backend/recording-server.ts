/**
 * A node:http server on a free port that records every request and answers
 * as the current test says: what reached the wire, checked without the service.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

/** How to answer: a status and body, hang (never answer), or cut (headers, then close). */
export type Answer = { status: number; body: string } | 'hang' | 'cut';

export interface Recorder {
  port: number;
  requests: RecordedRequest[];
  answer: (req: RecordedRequest) => Answer;
  /** Resolves when `n` requests have arrived. */
  received(n: number): Promise<void>;
  close(): Promise<void>;
}

export async function startRecorder(answer: Recorder['answer'] = () => ({ status: 200, body: 'True' })): Promise<Recorder> {
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const rec: Recorder = {
    port: 0,
    requests: [],
    answer,
    received(n) {
      if (rec.requests.length >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const recorded: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, json };
      rec.requests.push(recorded);
      for (const w of waiters.filter((w) => rec.requests.length >= w.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      const a = rec.answer(recorded);
      if (a === 'hang') return;
      if (a === 'cut') {
        res.writeHead(200, { 'content-length': '100' });
        res.write('Tr', () => res.destroy());
        return;
      }
      res.writeHead(a.status, { 'content-type': 'text/plain' });
      res.end(a.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  rec.port = (server.address() as AddressInfo).port;
  return rec;
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
