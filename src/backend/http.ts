/**
 * One HTTP exchange with the taskflow service over `node:http`/`node:https`,
 * with a deadline for the whole exchange (connect, send, complete answer).
 * Every failure to get a complete answer becomes {@link ServiceUnreachable};
 * nothing escapes as an unhandled rejection or an `error` event.
 *
 * @module
 */
import http from 'node:http';
import https from 'node:https';

/** A complete answer of the service. */
export interface HttpAnswer {
  status: number;
  body: string;
}

/** No complete answer: refused, DNS failure, timeout, connection lost mid-answer. */
export class ServiceUnreachable extends Error {
  override readonly name = 'ServiceUnreachable';
  constructor(
    /** The URL that was requested. */
    readonly url: string,
    /** What went wrong, e.g. `connect ECONNREFUSED 127.0.0.1:5005`. */
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`SODAR Taskflow could not be reached at ${url}: ${reason}`, options);
  }
}

/** Answers longer than this are cut: only their start is ever shown. */
const MAX_BODY_BYTES = 1024 * 1024;

// One connection per exchange: submits are rare and long, and an idle
// keep-alive socket closed by the server would fail the next submit.
const agents = {
  'http:': new http.Agent({ keepAlive: false }),
  'https:': new https.Agent({ keepAlive: false }),
};

/** A readable reason; connection errors with several addresses arrive as an AggregateError without message. */
function describeError(err: Error): string {
  if (err.message) return err.message;
  if (err instanceof AggregateError && err.errors.length > 0) {
    return err.errors.map((e: unknown) => (e instanceof Error ? e.message : String(e))).join('; ');
  }
  return (err as NodeJS.ErrnoException).code ?? String(err);
}

/** Options of {@link exchange}. */
export interface ExchangeOptions {
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** JSON text to send. */
  json?: string;
  /** Milliseconds until the complete answer must be in. */
  timeoutMs: number;
}

/** Sends one request to `url` and resolves with the complete answer. */
export function exchange(url: URL, opts: ExchangeOptions): Promise<HttpAnswer> {
  const target = url.href;
  return new Promise<HttpAnswer>((resolve, reject) => {
    const agent = url.protocol === 'https:' ? agents['https:'] : url.protocol === 'http:' ? agents['http:'] : undefined;
    if (!agent) {
      reject(new ServiceUnreachable(target, `unsupported protocol ${url.protocol}`));
      return;
    }
    const mod = url.protocol === 'https:' ? https : http;
    let settled = false;
    let req: http.ClientRequest | undefined;

    const fail = (reason: string, cause?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req?.destroy();
      reject(new ServiceUnreachable(target, reason, cause === undefined ? undefined : { cause }));
    };
    const timer = setTimeout(() => fail(`no complete answer within ${opts.timeoutMs} ms`), opts.timeoutMs);

    const headers: Record<string, string> = { ...opts.headers };
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(opts.json));
    }
    try {
      req = mod.request(url, { method: opts.method, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size >= MAX_BODY_BYTES) return;
          chunks.push(chunk);
          size += chunk.length;
        });
        res.on('error', (err) => fail(`connection lost while reading the answer (${err.message})`, err));
        res.on('close', () => {
          if (!res.complete) fail('connection closed before the answer was complete');
        });
        res.on('end', () => {
          if (settled) return;
          if (!res.complete) {
            fail('connection closed before the answer was complete');
            return;
          }
          settled = true;
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
      });
    } catch (err) {
      // Invalid header values or URLs throw synchronously.
      fail(err instanceof Error ? err.message : String(err), err);
      return;
    }
    req.on('error', (err) => fail(describeError(err), err));
    req.end(opts.json);
  });
}
