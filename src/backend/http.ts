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
import { boundedRequest, type BoundedAnswer, type IncompleteAnswer, type ProtocolAgents } from './bounded-request.js';

/** A complete answer of the service. */
export type HttpAnswer = BoundedAnswer;

/** No complete answer: refused, DNS failure, timeout, connection lost mid-answer. */
export class ServiceUnreachable extends Error {
  override readonly name = 'ServiceUnreachable';
  constructor(
    /** The URL that was requested. */
    readonly url: string,
    /** What went wrong, e.g. `connect ECONNREFUSED 127.0.0.1:5005`. */
    readonly reason: string,
    options?: ErrorOptions,
    /**
     * Whether the whole request had been sent (a timeout or a connection
     * lost while waiting for the answer): the service may have it, and a
     * submitted flow may still run or have run.
     */
    readonly mayHaveArrived = false,
  ) {
    super(
      mayHaveArrived
        ? `SODAR Taskflow at ${url}: ${reason}; it may have received the request, so a submitted flow may still run or have run (look at its runs before submitting it again)`
        : `SODAR Taskflow could not be reached at ${url}: ${reason}`,
      options,
    );
  }
}

/** Answers longer than this are cut: only their start is ever shown. */
const MAX_BODY_BYTES = 1024 * 1024;

// One connection per exchange: submits are rare and long, and an idle
// keep-alive socket closed by the server would fail the next submit.
const agents: ProtocolAgents = {
  'http:': new http.Agent({ keepAlive: false }),
  'https:': new https.Agent({ keepAlive: false }),
};

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
export async function exchange(url: URL, opts: ExchangeOptions): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(opts.json));
  }
  try {
    return await boundedRequest(url, { method: opts.method, headers, body: opts.json, agents, timeoutMs: opts.timeoutMs, maxBytes: MAX_BODY_BYTES });
  } catch (err) {
    const failure = err as IncompleteAnswer;
    throw new ServiceUnreachable(url.href, failure.reason, failure.cause === undefined ? undefined : { cause: failure.cause }, failure.sent);
  }
}
