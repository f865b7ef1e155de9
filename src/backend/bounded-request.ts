/**
 * One HTTP request over `node:http`/`node:https` through an agent the caller
 * owns, with a deadline for the whole exchange (connect, send, complete
 * answer) and a bound on how much of the answer is kept. Every way of not
 * getting a complete answer becomes one {@link IncompleteAnswer}; nothing
 * escapes as an unhandled rejection or an `error` event.
 *
 * Shared by the site callback client (kept-alive agents, many small calls) and
 * the backend's client of the service (one connection per exchange).
 *
 * @module
 */
import http from 'node:http';
import https from 'node:https';
import { urlToHttpOptions } from 'node:url';

/** The agent to use for each protocol; any other protocol is refused. */
export interface ProtocolAgents {
  'http:': http.Agent;
  'https:': https.Agent;
}

/** A complete answer; `body` is the first {@link BoundedRequestOptions.maxBytes} or a little more. */
export interface BoundedAnswer {
  status: number;
  body: string;
}

/** No complete answer: refused, DNS failure, timeout, connection lost mid-answer, or a request that could not be built. */
export class IncompleteAnswer extends Error {
  override readonly name = 'IncompleteAnswer';
  constructor(
    /** What went wrong, readable, e.g. `connect ECONNREFUSED 127.0.0.1:5005`. */
    readonly reason: string,
    /** Whether the request failed on a kept-alive connection used before (then the server likely closed it while idle). */
    readonly reusedSocket: boolean,
    options?: ErrorOptions,
    /** Whether the whole request had been sent: the server may have it (and be acting on it), only its answer is missing. */
    readonly sent = false,
    /**
     * Whether the same request may get an answer later: the server could not
     * be reached or did not answer (completely) in time, as when it restarts
     * or the network drops out; false for a request that cannot be made at
     * all (a bad URL or header, a name that does not resolve, a certificate
     * refused), which only a change of configuration mends.
     */
    readonly passing = false,
  ) {
    super(reason, options);
  }

  /** The system error code of the cause, e.g. `ECONNRESET`, if there is one. */
  get code(): string | undefined {
    return (this.cause as NodeJS.ErrnoException | undefined)?.code;
  }
}

/** Options of {@link boundedRequest}. */
export interface BoundedRequestOptions {
  method: 'GET' | 'POST';
  headers?: http.OutgoingHttpHeaders;
  /** Bytes or text to send; none for a request without a body. */
  body?: Buffer | string;
  agents: ProtocolAgents;
  /** Milliseconds until the complete answer must be in. */
  timeoutMs: number;
  /**
   * The milliseconds named in the reason when time runs out, where this
   * request is a second attempt within a larger budget; `timeoutMs` by default.
   */
  budgetMs?: number;
  /** Bytes of the answer kept; the rest is read and dropped, as only the start of a long answer is ever used. */
  maxBytes: number;
}

/**
 * Connection errors of a server that is down, restarting or cut off for a
 * while. A name that does not resolve (ENOTFOUND) is not one: the same name
 * has to be mended, and trying it again forever would hide that.
 */
const PASSING_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
]);

/** Whether a connection error is one of {@link PASSING_CODES}; several addresses tried arrive as an AggregateError of them. */
function passingError(err: unknown): boolean {
  if (err instanceof AggregateError && err.errors.length > 0) return err.errors.every(passingError);
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && PASSING_CODES.has(code);
}

/** A readable reason; connection errors with several addresses arrive as an AggregateError without message. */
function describeError(err: Error): string {
  if (err.message) return err.message;
  if (err instanceof AggregateError && err.errors.length > 0) {
    return err.errors.map((e: unknown) => (e instanceof Error ? e.message : String(e))).join('; ');
  }
  return (err as NodeJS.ErrnoException).code ?? String(err);
}

/**
 * A URL with its request options worked out once, for a client that sends
 * many requests to it: Node derives them from a `URL` on every request
 * otherwise, reading each of its fields anew.
 */
export interface RequestTarget {
  readonly url: URL;
  readonly options: Readonly<http.RequestOptions>;
}

/** The {@link RequestTarget} of `url`. */
export function requestTarget(url: URL): RequestTarget {
  return { url, options: urlToHttpOptions(url) };
}

/**
 * Sends one request to `to` (a URL, or a {@link RequestTarget}) and resolves
 * with the complete answer, whatever its status; rejects with
 * {@link IncompleteAnswer} only.
 */
export function boundedRequest(to: URL | RequestTarget, opts: BoundedRequestOptions): Promise<BoundedAnswer> {
  const url = to instanceof URL ? to : to.url;
  return new Promise<BoundedAnswer>((resolve, reject) => {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      reject(new IncompleteAnswer(`unsupported protocol ${url.protocol}`, false));
      return;
    }
    const mod = url.protocol === 'https:' ? https : http;
    let settled = false;
    let req: http.ClientRequest | undefined;
    let whole = false;

    const fail = (reason: string, passing: boolean, cause?: unknown, reusedSocket = false): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req?.destroy();
      reject(new IncompleteAnswer(reason, reusedSocket, cause === undefined ? undefined : { cause }, whole, passing));
    };
    const timer = setTimeout(() => fail(`no complete answer within ${opts.budgetMs ?? opts.timeoutMs} ms`, true), opts.timeoutMs);

    try {
      const agent = opts.agents[url.protocol];
      const options = to instanceof URL ? undefined : { ...to.options, method: opts.method, headers: opts.headers, agent };
      const onAnswer = (res: http.IncomingMessage): void => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size >= opts.maxBytes) return;
          chunks.push(chunk);
          size += chunk.length;
        });
        res.on('error', (err) => fail(`connection lost while reading the answer (${err.message})`, true, err));
        res.on('close', () => {
          if (!res.complete) fail('connection closed before the answer was complete', true);
        });
        res.on('end', () => {
          if (settled) return;
          if (!res.complete) {
            fail('connection closed before the answer was complete', true);
            return;
          }
          settled = true;
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
      };
      req = options === undefined ? mod.request(url, { method: opts.method, headers: opts.headers, agent }, onAnswer) : mod.request(options, onAnswer);
    } catch (err) {
      // Invalid header values or URLs throw synchronously.
      fail(err instanceof Error ? err.message : String(err), false, err);
      return;
    }
    const sent = req;
    sent.on('error', (err) => fail(describeError(err), passingError(err), err, sent.reusedSocket));
    sent.on('finish', () => {
      whole = true;
    });
    sent.end(opts.body);
  });
}
