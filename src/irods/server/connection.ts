/**
 * One client connection of the iRODS protocol server, from the startup pack
 * to the disconnect: version reply (and TLS negotiation), native
 * authentication, then one API request at a time, each answered by its
 * handler from the route table (iRODS 4.3.5 `rodsAgent.cpp`,
 * `rsApiHandler.cpp`).
 *
 * Before authentication only `AUTH_REQUEST_AN` / `AUTH_RESPONSE_AN` and the
 * disconnect are served: any other known API is answered `SYS_NO_API_PRIV`
 * (iRODS `chkApiPermission`), an unknown one `SYS_UNMATCHED_API_NUM`
 * (iRODS looks the number up first). A handler's {@link IrodsError} becomes
 * an error reply (`intInfo` the code, `RError_PI` the message), a store
 * error is mapped by `store-errors.ts`, anything else is logged and answered
 * as an internal error; the connection stays usable after all of them. A
 * framing error, a silent or vanished client ends the connection; the
 * registered cleanups run once, however it ends.
 *
 * @module
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import { BoundedCache } from '../../bounded-cache.js';
import type { EmbeddedStore } from '../../store/embedded/store.js';
import { DescriptorTable } from '../objects/descriptors.js';
import type { AccessRules } from '../permissions.js';
import type { SpecificQueries } from '../specific-query/runner.js';
import type { IrodsErrorName } from '../wire/error-codes.js';
import { FramingError, frameMessage, LOGIN_FRAME_LIMITS, MessageReader, MSG_TYPE, PeerGoneError, type FrameLimits, type RawMessage } from '../wire/framing.js';
import { IrodsError } from '../wire/irods-error.js';
import { IRODS_ERRORS } from '../wire/error-codes.js';
import { int, text, type PiMessage, type PiNode } from '../wire/pi-values.js';
import { decodePi, encodePi, type AposStyle, type DecodedPi } from '../wire/xml.js';
import type { ApiContext, ApiReply, ApiRequest, ApiRoute, ConnectionContext, SessionUser } from './api.js';
import { inputsRefusal, NOTHING, STRUCT_ONLY } from './api-inputs.js';
import { AUTH_REQUEST_AN, AUTH_RESPONSE_AN, challengeReply, checkResponse, clientSignatureOf, LoginError, LoginThrottle, newChallenge } from './native-auth.js';
import { decide, SERVER_NEGOTIATION_ERROR, serverPolicyMessage, TLS_REQUIRED_HINT, wantsNegotiation, type NegotiationOutcome, type TlsPolicy } from './negotiation.js';
import { INTERNAL_ERROR, toIrodsError } from './store-errors.js';

/**
 * The version this server reports: a 4.2 release, so that clients use
 * native authentication (703/704) rather than the 4.3 authentication
 * framework (python-irodsclient 2.0+ switches at 4.3.0). API version `d` as
 * every 4.x server (iRODS 4.3.5 `rodsVersion.h`).
 */
export const SERVER_REL_VERSION = 'rods4.2.12';
export const SERVER_API_VERSION = 'd';
/** iRODS `sendVersion` sends this cookie when it offers no reconnection. */
const NO_RECONNECT_COOKIE = 400;
/**
 * iRODS `ERR_MSG_LEN` (iRODS 4.3.5 `rodsError.h`): the bytes of `RErrMsg_PI`'s
 * `msg`, its NUL included. A C client meets a longer message with
 * USER_PACKSTRUCT_INPUT_ERR instead of the error it reports (iRODS 4.3.5
 * `lib/core/src/packStruct.cpp` `unpackXmlString`, which counts the bytes
 * after unescaping), so messages are cut to fit.
 */
const ERR_MSG_LEN = 1024;
/** Longest `SHARED_SECRET` key accepted (python-irodsclient sends its key size, 32 by default). */
const MAX_SHARED_SECRET = 1024;
/** How long a refused or finished connection waits for the client to close before it is cut. */
const LINGER_MS = 2000;

/** Bounds of one connection: its frame bounds are those of a logged-in client (before, {@link LOGIN_FRAME_LIMITS}). */
export interface SessionLimits extends FrameLimits {
  /** Milliseconds an authenticated client may stay silent between requests. */
  idleTimeoutMs: number;
  /** Milliseconds a client has from connecting to the end of its login (startup, negotiation, TLS, authentication). */
  loginTimeoutMs: number;
  /**
   * Milliseconds a client has from connecting to the end of its startup
   * pack. Clients send it at once; a connection that does not is closed
   * long before the login bound, so that it holds its place among those
   * logging in only briefly.
   */
  startupTimeoutMs: number;
  /** Largest size a data object may reach through the session's writes and truncates (see `IRODS_MAX_OBJECT_BYTES` in config.ts). */
  maxObjectBytes: number;
}

/** TLS as the server offers it. */
export interface SessionTls {
  context: SecureContext;
  policy: Exclude<TlsPolicy, 'refuse'>;
}

/** What every connection of one server shares. */
export interface SessionShared {
  store: EmbeddedStore;
  routes: ReadonlyMap<number, ApiRoute>;
  access: AccessRules;
  /** Where specific queries run. */
  specificQueries: SpecificQueries;
  tls: SessionTls | undefined;
  limits: SessionLimits;
  log: Logger;
  /** Failed logins of the whole server, to slow guessing down. */
  loginThrottle: LoginThrottle;
}

/** The startup pack's fields this server uses. */
interface Startup {
  proxyUser: string;
  proxyZone: string;
  clientUser: string;
  clientZone: string;
  relVersion: string;
  option: string;
}

/** A connection that must end after its reply: the reason is in the reply's error. */
class EndSession extends Error {}

/** The `RError_PI` of an error reply. */
export function errorStack(code: number, message: string): PiMessage {
  return { name: 'RError_PI', fields: { count: 1, RErrMsg_PI: { status: code, msg: fitErrMsg(message) } } };
}

/** `message` cut to ERR_MSG_LEN - 1 bytes of UTF-8, before the character that would not fit whole. */
function fitErrMsg(message: string): string {
  const max = ERR_MSG_LEN - 1;
  // a UTF-16 unit is at most 3 bytes of UTF-8 (a surrogate pair, two units, 4): short ones are not encoded to check
  if (message.length * 3 <= max) return message;
  const bytes = Buffer.from(message, 'utf8');
  if (bytes.length <= max) return message;
  let end = max;
  while ((bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.toString('utf8', 0, end);
}

/** How apostrophes travel with a client of this version (see {@link AposStyle}). */
function aposFor(relVersion: string): AposStyle {
  const m = /^rods(\d+)\.(\d+)\.(\d+)/.exec(relVersion);
  if (!m) return 'legacy';
  const [maj, min, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return maj > 4 || (maj === 4 && (min > 2 || (min === 2 && patch >= 9))) ? 'entity' : 'legacy';
}

const KNOWN_CODES = new Set<number>(Object.values(IRODS_ERRORS));

let nextId = 1;

const DONE: Promise<void> = Promise.resolve();

/** Largest request body whose decoding is kept for the next request of its API. */
const MAX_REUSED_BODY = 2048;

/** Most framed replies {@link bareReply} keeps. */
const BARE_REPLIES_MAX = 256;
const bareReplies = new Map<string, BoundedCache<number, Buffer>>();

/**
 * A reply that is a header alone (an open's descriptor, a write's byte
 * count, a close's 0), framed once per type and `intInfo` and reused: such
 * replies are the commonest, and their bytes never change (the stream only
 * reads a buffer it is given).
 */
function bareReply(type: string, intInfo: number): Buffer {
  let byInt = bareReplies.get(type);
  if (!byInt) bareReplies.set(type, (byInt = new BoundedCache(BARE_REPLIES_MAX)));
  return byInt.get(intInfo) ?? byInt.set(intInfo, frameMessage(type, { intInfo })[0]!);
}

/**
 * Framed replies of packed bodies ({@link ApiReply.packed}), by body: a
 * handler packs such a body once and reuses it (a put's seeks answer the
 * same `fileLseekOut_PI`), so its framing is made once too, for the type
 * and `intInfo` it was sent with last.
 */
const packedReplies = new WeakMap<Buffer, { type: string; intInfo: number; framed: Buffer }>();

function packedReply(type: string, intInfo: number, packed: Buffer): Buffer {
  const known = packedReplies.get(packed);
  if (known && known.type === type && known.intInfo === intInfo) return known.framed;
  const framed = frameMessage(type, { intInfo, body: packed })[0]!;
  packedReplies.set(packed, { type, intInfo, framed });
  return framed;
}

/**
 * What the handlers see of one connection. A class rather than an object
 * literal per connection: a literal with a getter gets a hidden class of
 * its own each time, and its arrow functions are new call targets each
 * time, so the handlers' optimised code that reads it on every request
 * (the descriptor table, `onClose`) would be thrown away at every new
 * connection.
 */
class SessionConnection implements ConnectionContext {
  readonly state = new Map<symbol, unknown>();
  /** Set at each authentication challenge. */
  clientSignature = '';
  readonly cleanups: Array<() => void | Promise<void>> = [];

  constructor(private readonly exchangeWith: (reply: ApiReply) => Promise<number>) {}

  onClose(fn: () => void | Promise<void>): void {
    this.cleanups.push(fn);
  }

  exchange(reply: ApiReply): Promise<number> {
    return this.exchangeWith(reply);
  }
}

/** What the handlers get, made at login. A class for the reason {@link SessionConnection} is one. */
class HandlerContext implements ApiContext {
  constructor(
    readonly user: SessionUser,
    readonly store: EmbeddedStore,
    readonly access: AccessRules,
    readonly connection: ConnectionContext,
    readonly log: Logger,
    readonly specificQueries: SpecificQueries,
    readonly maxObjectBytes: number,
  ) {}
}

/** One connection's session. Start it with {@link IrodsSession.run}. */
export class IrodsSession {
  /** The stream messages are read from and written to (the socket, or TLS over it). */
  private stream: Duplex;
  private reader: MessageReader;
  /** What the handlers get, with the logged-in user: made at each login, none before. */
  private ctx: HandlerContext | undefined;
  private challenge: Buffer | undefined;
  private apos: AposStyle = 'entity';
  private startupPack: Startup | undefined;
  private closed = false;
  /** The last body of each API and its decoding (see {@link IrodsSession.decodeBody}). */
  private readonly lastBodies = new Map<number, { bytes: Buffer; decoded: DecodedPi }>();
  private readonly log: Logger;
  private readonly connection: SessionConnection;
  /** Resolves when the connection has ended and its cleanups ran. */
  readonly done: Promise<void>;
  private finish!: () => void;
  private loginDeadline: NodeJS.Timeout | undefined;
  private startupDeadline: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly shared: SessionShared,
    /**
     * Called once the client proved who it is, before it is told so: throws
     * an {@link IrodsError} (SYS_EXCEED_CONNECT_CNT) when the server serves
     * as many logged-in clients as it may.
     */
    private readonly admit: () => void,
  ) {
    this.log = shared.log.child({ conn: nextId++, peer: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}` });
    this.stream = socket;
    // Errors surface through the reader and writes; this keeps a reset from being an uncaught 'error'.
    socket.on('error', (err) => this.log.debug({ err: err.message }, 'socket error'));
    socket.setNoDelay(true);
    this.reader = new MessageReader(socket, LOGIN_FRAME_LIMITS, shared.limits.loginTimeoutMs);
    this.done = new Promise((resolve) => (this.finish = resolve));
    // a client may not hold a connection without logging in, however busy it keeps it
    this.loginDeadline = setTimeout(() => {
      this.log.info('login took too long: connection closed');
      this.close();
    }, shared.limits.loginTimeoutMs);
    this.loginDeadline.unref();
    this.startupDeadline = setTimeout(() => {
      this.log.info('no startup pack in time: connection closed');
      this.close();
    }, shared.limits.startupTimeoutMs);
    this.startupDeadline.unref();
    this.connection = new SessionConnection((reply) => this.exchange(reply));
    DescriptorTable.attach(this.connection);
  }

  /** Runs the session to its end; never throws. */
  async run(): Promise<void> {
    try {
      if (await this.startup()) await this.serve();
    } catch (err) {
      await this.failed(err);
    } finally {
      clearTimeout(this.loginDeadline);
      clearTimeout(this.startupDeadline);
      this.end();
      await this.runCleanups();
      this.finish();
    }
  }

  /** Ends the connection now (server shutdown); the session's cleanups run once its current request is over. */
  close(): void {
    this.closed = true;
    this.stream.destroy();
    this.socket.destroy();
  }

  private async failed(err: unknown): Promise<void> {
    if (err instanceof EndSession) return;
    if (err instanceof PeerGoneError) {
      this.log.debug({ reason: err.message }, 'client gone');
      return;
    }
    if (err instanceof FramingError) {
      this.log.info({ reason: err.message }, 'connection ended');
      if (err.canReply && !this.closed) await this.sendError(MSG_TYPE.API_REPLY, err.code, err.message).catch(() => undefined);
      return;
    }
    this.log.error({ err: errText(err) }, 'connection failed');
  }

  /** Closes gracefully: our end first (TLS close_notify), then the socket once the client closes, or after a grace. */
  private end(): void {
    const wasClosed = this.closed;
    this.closed = true;
    if (wasClosed || this.socket.destroyed) {
      this.socket.destroy();
      return;
    }
    this.reader.discard();
    const timer = setTimeout(() => {
      this.stream.destroy();
      this.socket.destroy();
    }, LINGER_MS);
    timer.unref();
    this.socket.once('close', () => clearTimeout(timer));
    this.stream.end();
  }

  private async runCleanups(): Promise<void> {
    for (const fn of this.connection.cleanups.splice(0)) {
      try {
        await fn();
      } catch (err) {
        this.log.error({ err: errText(err) }, 'connection cleanup failed');
      }
    }
  }

  // ---- writing

  /**
   * Writes a message; `sent` runs once its last buffer is handed to the OS,
   * or the write failed. Undefined when the stream took it without asking
   * to wait (the common case: no promise per reply), else a promise that
   * settles once it drained.
   */
  private write(buffers: Buffer[], sent?: () => void): Promise<void> | undefined {
    const s = this.stream;
    if (this.closed || s.destroyed || !s.writable) {
      sent?.();
      return Promise.reject(new PeerGoneError('before the reply was sent'));
    }
    let ok = true;
    const last = buffers.length - 1;
    // the stream calls a write's callback once, written or failed (a destroyed stream fails what it held)
    for (let i = 0; i < last; i++) ok = s.write(buffers[i]);
    ok = sent ? s.write(buffers[last], () => sent()) : s.write(buffers[last]);
    if (ok) return undefined;
    return this.drained(s);
  }

  /** How long the client may stay silent: until it logs in, the login's limit. */
  private idleLimitMs(): number {
    return this.ctx ? this.shared.limits.idleTimeoutMs : this.shared.limits.loginTimeoutMs;
  }

  /** Waits until `s` drained; a client that does not read its reply is as idle as one that does not send. */
  private drained(s: Duplex): Promise<void> {
    const ms = this.idleLimitMs();
    return new Promise<void>((resolve, reject) => {
      const done = (err?: Error): void => {
        clearTimeout(timer);
        s.off('drain', onDrain);
        s.off('close', onClose);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = (): void => done();
      const onClose = (): void => done(new PeerGoneError('while a reply was being sent'));
      const timer = setTimeout(() => {
        done(new PeerGoneError(`without reading its reply for ${Math.round(ms / 1000)} s`));
        this.close();
      }, ms);
      s.on('drain', onDrain);
      s.on('close', onClose);
    });
  }

  private send(type: string, intInfo: number, body?: PiMessage, bs?: Buffer, error?: PiMessage, sent?: () => void): Promise<void> {
    return this.sendNow(type, intInfo, body, bs, error, sent) ?? DONE;
  }

  /** {@link send}, undefined when the stream took the message without asking to wait. */
  private sendNow(type: string, intInfo: number, body?: PiMessage | Buffer, bs?: Buffer, error?: PiMessage, sent?: () => void): Promise<void> | undefined {
    let buffers: Buffer[];
    try {
      buffers =
        error === undefined && bs === undefined && (body === undefined || Buffer.isBuffer(body))
          ? [body === undefined ? bareReply(type, intInfo) : packedReply(type, intInfo, body)]
          : frameMessage(type, {
              intInfo,
              body: body === undefined || Buffer.isBuffer(body) ? body : encodePi(body, { apos: this.apos }),
              error: error ? encodePi(error, { apos: this.apos }) : undefined,
              bs,
            });
    } catch (err) {
      sent?.();
      return Promise.reject(err as Error);
    }
    return this.write(buffers, sent);
  }

  private sendError(type: string, code: number, message: string, body?: PiMessage): Promise<void> {
    return this.send(type, code, body, undefined, errorStack(code, message));
  }

  private sendReply(reply: ApiReply): Promise<void> | undefined {
    return this.sendNow(MSG_TYPE.API_REPLY, reply.status ?? 0, reply.packed ?? reply.body, reply.bs, undefined, reply.sent);
  }

  /** A version reply; a refusal carries its status in `Version_PI` (as iRODS sends it) and the reason in `RError_PI`. */
  private sendVersion(status: number, reason?: string): Promise<void> {
    const version: PiMessage = {
      name: 'Version_PI',
      fields: { status, relVersion: SERVER_REL_VERSION, apiVersion: SERVER_API_VERSION, reconnPort: 0, reconnAddr: '', cookie: NO_RECONNECT_COOKIE },
    };
    // python-irodsclient 0.8.1 ignores the version's status; a code it knows in the header makes it raise
    // with the reason (C clients read the status and ignore the header's intInfo on a version).
    const intInfo = KNOWN_CODES.has(status) ? status : 0;
    return this.send(MSG_TYPE.VERSION, intInfo, version, undefined, reason ? errorStack(status, reason) : undefined);
  }

  // ---- startup

  /** Reads the startup pack, negotiates, sends the version; false when the connection was refused. */
  private async startup(): Promise<boolean> {
    const msg = await this.reader.next();
    clearTimeout(this.startupDeadline);
    if (!msg) return false;
    if (msg.header.type !== MSG_TYPE.CONNECT) {
      await this.sendError(MSG_TYPE.VERSION, IRODS_ERRORS.SYS_HEADER_TPYE_LEN_ERR, `expected ${MSG_TYPE.CONNECT} first, got ${msg.header.type}`);
      return false;
    }
    let startup: Startup;
    let prot: number;
    try {
      const { name, node } = decodePi(msg.body);
      if (name !== 'StartupPack_PI') throw new IrodsError('USER_PACKSTRUCT_INPUT_ERR', `expected a StartupPack_PI, got <${name}>`);
      prot = int(node, 'irodsProt');
      startup = {
        proxyUser: text(node, 'proxyUser'),
        proxyZone: text(node, 'proxyRcatZone'),
        clientUser: text(node, 'clientUser'),
        clientZone: text(node, 'clientRcatZone'),
        relVersion: text(node, 'relVersion'),
        option: text(node, 'option'),
      };
    } catch (err) {
      const e = toIrodsError(err) ?? new IrodsError('USER_PACKSTRUCT_INPUT_ERR', 'malformed startup pack');
      await this.sendVersion(e.code, e.message);
      return false;
    }
    this.log.debug({ user: startup.proxyUser, client: startup.relVersion }, 'startup');
    if (prot !== 1) {
      // C clients read irodsProt from the process environment (iRODS 4.3.5 rcConnect.cpp)
      await this.sendVersion(
        IRODS_ERRORS.SYS_INVALID_PROTOCOL_TYPE,
        `this server speaks only the XML protocol (irodsProt=1), not ${prot === 0 ? 'the binary one' : `irodsProt=${prot}`}; iCommands switch with the environment variable irodsProt=1`,
      );
      return false;
    }
    this.apos = aposFor(startup.relVersion);
    this.startupPack = startup;
    const policy: TlsPolicy = this.shared.tls?.policy ?? 'refuse';
    let useTls = false;
    if (wantsNegotiation(startup.option)) {
      await this.send(MSG_TYPE.CS_NEG, 0, serverPolicyMessage(policy));
      const answer = await this.reader.next();
      if (!answer) return false;
      let outcome: NegotiationOutcome;
      try {
        outcome = answer.header.type === MSG_TYPE.CS_NEG ? decide(policy, this.body(answer)) : { refuse: `expected ${MSG_TYPE.CS_NEG}, got ${answer.header.type}` };
      } catch (err) {
        // not a fault of this server: at error level, anyone who can connect could flood the log with it
        const e = toIrodsError(err) ?? new IrodsError('USER_PACKSTRUCT_INPUT_ERR', 'malformed negotiation answer');
        this.log.info({ reason: e.message }, 'negotiation refused');
        await this.sendVersion(e.code, `malformed negotiation answer: ${e.message}`);
        return false;
      }
      if ('refuse' in outcome) {
        this.log.info({ reason: outcome.refuse }, 'negotiation refused');
        await this.sendVersion(SERVER_NEGOTIATION_ERROR, outcome.refuse);
        return false;
      }
      useTls = outcome.use === 'tls';
    } else if (policy === 'require') {
      // iRODS refuses here with a version status python-irodsclient 0.8.1 ignores; it would then find the
      // connection closed. So the refusal also answers the client's next request, with a code it knows.
      this.log.info('plaintext client refused: TLS is required');
      await this.sendVersion(SERVER_NEGOTIATION_ERROR, TLS_REQUIRED_HINT);
      const next = await this.reader.next().catch(() => null);
      if (next?.header.type === MSG_TYPE.API_REQ) await this.sendError(MSG_TYPE.API_REPLY, IRODS_ERRORS.SYS_NO_API_PRIV, TLS_REQUIRED_HINT);
      return false;
    }
    await this.sendVersion(0);
    if (useTls) await this.startTls();
    return true;
  }

  /** TLS on the same socket, then the client's key settings and shared secret, read and dropped. */
  private async startTls(): Promise<void> {
    const tls = this.shared.tls!;
    this.reader.detach();
    const secure = new TLSSocket(this.socket, { isServer: true, secureContext: tls.context });
    secure.on('error', (err) => this.log.debug({ err: err.message }, 'TLS error'));
    this.stream = secure;
    // ends with the handshake, an error, or the socket closing (a server shutdown destroys it without an error)
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error): void => {
        secure.off('secure', onSecure);
        secure.off('error', done);
        secure.off('close', onClose);
        if (err) reject(new PeerGoneError(`during the TLS handshake (${err.message})`));
        else resolve();
      };
      const onSecure = (): void => done();
      const onClose = (): void => done(new Error('connection closed'));
      secure.on('secure', onSecure);
      secure.on('error', done);
      secure.on('close', onClose);
    });
    this.reader = new MessageReader(secure, LOGIN_FRAME_LIMITS, this.shared.limits.loginTimeoutMs);
    const settings = await this.reader.readHeader();
    const secret = settings && (await this.reader.readHeader());
    if (!secret) throw new PeerGoneError('after the TLS handshake');
    if (secret.type !== 'SHARED_SECRET' || secret.msgLen < 0 || secret.msgLen > MAX_SHARED_SECRET) {
      throw new FramingError('SYS_HEADER_TPYE_LEN_ERR', 'expected the SHARED_SECRET message after the TLS handshake', true);
    }
    await this.reader.readBytes(secret.msgLen);
    this.log.debug({ algorithm: settings.type.slice(0, 40) }, 'TLS started');
  }

  // ---- requests

  private body(msg: RawMessage): PiNode | null {
    return msg.body.length === 0 ? null : decodePi(msg.body, { apos: this.apos }).node;
  }

  private async serve(): Promise<void> {
    const msg = await this.serveRequests();
    if (!msg) return;
    if (msg.header.type === MSG_TYPE.DISCONNECT) {
      this.log.debug('disconnect');
      return;
    }
    await this.sendError(MSG_TYPE.API_REPLY, IRODS_ERRORS.USER_MSG_TYPE_NO_SUPPORT, `message type ${msg.header.type} is not served`);
    throw new EndSession();
  }

  /**
   * Serves API requests; returns the first other message, or null when the
   * client is gone. The rest is up to the caller: code in this loop first
   * run at a session's end (a disconnect) would throw away its optimised
   * code, with all it inlined, for the next session to compile again.
   */
  private async serveRequests(): Promise<RawMessage | null> {
    for (;;) {
      this.reader.setIdleTimeout(this.idleLimitMs());
      // a message buffered whole is served without waiting for a promise
      const msg = this.reader.takeNext() ?? (await this.reader.next());
      if (!msg || msg.header.type !== MSG_TYPE.API_REQ) return msg;
      const pending = this.request(msg);
      if (pending) await pending;
    }
  }

  /**
   * Answers one request. A handler that answers at once (no promise) is
   * answered at once too, and a reply the socket takes without asking to
   * wait returns undefined: the loop then goes on without a promise hop.
   */
  private request(msg: RawMessage): Promise<void> | undefined {
    const api = msg.header.intInfo;
    if (api === AUTH_REQUEST_AN || api === AUTH_RESPONSE_AN) {
      const challenge = api === AUTH_REQUEST_AN;
      // checked before the response is: a malformed one neither uses up the challenge nor counts as a failed login
      const refusal = inputsRefusal(challenge ? 'AUTH_REQUEST_AN' : 'AUTH_RESPONSE_AN', challenge ? NOTHING : STRUCT_ONLY, msg);
      if (refusal) return this.sendError(MSG_TYPE.API_REPLY, refusal.code, refusal.message);
      return challenge ? this.authRequest() : this.authResponse(msg);
    }
    const route = this.shared.routes.get(api);
    if (!route) return this.sendError(MSG_TYPE.API_REPLY, IRODS_ERRORS.SYS_UNMATCHED_API_NUM, `API ${api} is not served by this server`);
    const ctx = this.ctx;
    if (!ctx) return this.sendError(MSG_TYPE.API_REPLY, IRODS_ERRORS.SYS_NO_API_PRIV, `${route.name} needs a logged-in user: authenticate first`);
    const refusal = inputsRefusal(route.name, route.inputs ?? STRUCT_ONLY, msg);
    if (refusal) return this.sendError(MSG_TYPE.API_REPLY, refusal.code, refusal.message);
    let req: ApiRequest;
    try {
      const decoded = msg.body.length === 0 ? null : this.decodeBody(api, msg.body);
      req = new Request(api, decoded?.name ?? null, decoded?.node ?? null, msg);
    } catch (err) {
      const e = err as IrodsError;
      return this.sendError(MSG_TYPE.API_REPLY, e.code, e.message);
    }
    let reply: ApiReply | Promise<ApiReply>;
    try {
      reply = route.handle(req, ctx);
    } catch (err) {
      return this.refused(route, err);
    }
    if (reply instanceof Promise) {
      return reply.then(
        (r) => this.sendReply(r),
        (err: unknown) => this.refused(route, err),
      );
    }
    return this.sendReply(reply);
  }

  /**
   * A request body decoded, or the same decoding as the last body of this
   * API when the bytes are the same: a put's seek, write and close bodies
   * repeat byte for byte from file to file, and a comparison costs far less
   * than decoding. Decodings are frozen, so no handler changes what the next
   * request gets (handlers only read bodies).
   */
  private decodeBody(api: number, body: Buffer): DecodedPi {
    const last = this.lastBodies.get(api);
    if (last && last.bytes.equals(body)) return last.decoded;
    // frozen from the start, not when first reused: a fresh and a reused
    // decoding then have the same hidden classes, so the handlers' optimised
    // code does not fall back each time a new connection sends its first one
    const decoded = decodePi(body, { apos: this.apos, freeze: true });
    if (body.length <= MAX_REUSED_BODY) {
      // the body is a view into the socket's chunk: the key is a copy
      this.lastBodies.set(api, { bytes: Buffer.from(body), decoded });
    }
    return decoded;
  }

  /** The error reply for a handler's failure; the connection goes on (unless it was closed meanwhile). */
  private refused(route: ApiRoute, err: unknown): Promise<void> {
    if (this.closed) return Promise.reject(err as Error);
    const known = toIrodsError(err);
    if (known) {
      this.log.debug({ api: route.name, code: known.codeName, reason: known.message }, 'request refused');
      return this.sendError(MSG_TYPE.API_REPLY, known.code, known.message, known.body);
    }
    this.log.error({ api: route.name, err: errText(err) }, 'request failed');
    return this.sendError(MSG_TYPE.API_REPLY, IRODS_ERRORS[INTERNAL_ERROR], `internal error in ${route.name}; the server's log has the details`);
  }

  private async authRequest(): Promise<void> {
    this.challenge = newChallenge();
    this.connection.clientSignature = clientSignatureOf(this.challenge);
    await this.send(MSG_TYPE.API_REPLY, 0, challengeReply(this.challenge));
  }

  private async authResponse(msg: RawMessage): Promise<void> {
    const challenge = this.challenge;
    // one response per challenge, as iRODS keeps one challenge per agent
    this.challenge = undefined;
    const fail = (code: IrodsErrorName, message: string): Promise<void> => this.sendError(MSG_TYPE.API_REPLY, IRODS_ERRORS[code], message);
    if (!challenge) return fail('CAT_INVALID_AUTHENTICATION', 'authentication failed: ask for a challenge (API 703) first');
    let user: SessionUser;
    try {
      user = checkResponse(this.shared.store, challenge, this.body(msg));
      user = this.clientUserFor(user);
    } catch (err) {
      if (err instanceof LoginError) this.log.info({ user: err.user.slice(0, 64), reason: err.reason }, 'login failed');
      const e = toIrodsError(err) ?? new IrodsError('CAT_INVALID_AUTHENTICATION', 'authentication failed');
      const delay = this.shared.loginThrottle.delayMs();
      this.shared.loginThrottle.failed();
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      return fail(e.codeName, e.message);
    }
    try {
      this.admit();
    } catch (err) {
      const e = err as IrodsError;
      this.log.info({ user: user.name, reason: e.message }, 'login refused');
      await this.sendError(MSG_TYPE.API_REPLY, e.code, e.message);
      throw new EndSession();
    }
    clearTimeout(this.loginDeadline);
    this.reader.setLimits(this.shared.limits);
    const { store, access, specificQueries } = this.shared;
    this.ctx = new HandlerContext(user, store, access, this.connection, this.log, specificQueries, this.shared.limits.maxObjectBytes);
    this.log.info({ user: user.name }, 'logged in');
    await this.send(MSG_TYPE.API_REPLY, 0);
  }

  /**
   * The user requests run as: the authenticated (proxy) user, or the
   * startup pack's client user when a `rodsadmin` proxies for them (iRODS
   * `SYS_PROXYUSER_NO_PRIV` for anyone else).
   */
  private clientUserFor(proxy: SessionUser): SessionUser {
    const startup = this.startupPack;
    const wanted = startup?.clientUser ?? '';
    if (wanted === '' || wanted === proxy.name) return proxy;
    if (proxy.type !== 'rodsadmin') throw new IrodsError('SYS_PROXYUSER_NO_PRIV', `${proxy.name} may not act for ${wanted}: only a rodsadmin may`);
    const row = this.shared.store.protocolCore().q.principal.get(wanted);
    if (!row || row.kind !== 'user') throw new IrodsError('CAT_INVALID_USER', `no user ${wanted}`);
    return { name: wanted, type: (row.user_type ?? 'rodsuser') as SessionUser['type'], zone: this.shared.store.zone };
  }

  private async exchange(reply: ApiReply): Promise<number> {
    await this.sendReply(reply);
    this.reader.setIdleTimeout(this.shared.limits.idleTimeoutMs);
    return this.reader.readInt32();
  }
}

/** A request whose data is joined into one buffer only for a handler that reads `bs`. */
class Request implements ApiRequest {
  constructor(
    readonly api: number,
    readonly bodyName: string | null,
    readonly body: PiNode | null,
    private readonly msg: RawMessage,
  ) {}

  get bs(): Buffer {
    return this.msg.bs;
  }

  get bsParts(): readonly Buffer[] {
    return this.msg.bsParts;
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
