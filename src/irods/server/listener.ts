/**
 * The TCP side of the protocol server: accepts connections, runs one
 * {@link IrodsSession} each, bounds how many run at once, and ends them all
 * on close.
 *
 * The limit counts logged-in clients. A connection that arrives when they
 * are as many is answered as iRODS answers it (iRODS 4.3.5 `rodsServer.cpp`:
 * a version reply with status `SYS_EXCEED_CONNECT_CNT`) and closed; beyond
 * the limit in such refusals, sockets are dropped unanswered, so a flood
 * costs no more than a socket each. Connections that have not logged in
 * have a share of their own, as large as the limit: they cannot take the
 * place of a logged-in client, and when the share is full a new connection
 * takes the place of the one that has been logging in longest (a real
 * client logs in within a few round trips; one that sends nothing is also
 * closed at the startup bound). A client that logs in while the limit is
 * reached is refused at its login with `SYS_EXCEED_CONNECT_CNT`. Refusals
 * and connections closed to make room are logged by the burst
 * ({@link BurstLog}), not one line each: they come in floods.
 *
 * @module
 */
import { createServer, type Server, type Socket } from 'node:net';
import { IrodsSession, SERVER_API_VERSION, SERVER_REL_VERSION, errorStack, type SessionShared } from './connection.js';
import { IRODS_ERRORS } from '../wire/error-codes.js';
import { BurstLog } from './burst-log.js';
import { frameMessage, MSG_TYPE } from '../wire/framing.js';
import { IrodsError } from '../wire/irods-error.js';
import { encodePi } from '../wire/xml.js';

/** Options of {@link listen}. */
export interface ListenOptions {
  host: string;
  /** 0: any free port. */
  port: number;
  /** Logged-in sessions served at once; as many again may be logging in. */
  maxConnections: number;
  shared: SessionShared;
}

/** A listening server. */
export interface RunningListener {
  /** The bound address (the real port when 0 was asked for). */
  readonly address: { host: string; port: number };
  /** Sessions running now, logged in or not. */
  readonly connections: number;
  /** Stops accepting, ends every connection, waits for their cleanups. Idempotent. */
  close(): Promise<void>;
}

/** Why a client is refused when the limit is reached. */
function busyMessage(max: number): string {
  return `the server is serving its limit of ${max} connections; try again later`;
}

/** The version reply refusing a connection beyond the limit. */
function busyReply(max: number): Buffer[] {
  const code = IRODS_ERRORS.SYS_EXCEED_CONNECT_CNT;
  const version = {
    name: 'Version_PI',
    fields: { status: code, relVersion: SERVER_REL_VERSION, apiVersion: SERVER_API_VERSION, reconnPort: 0, reconnAddr: '', cookie: 400 },
  };
  return frameMessage(MSG_TYPE.VERSION, { intInfo: code, body: encodePi(version), error: encodePi(errorStack(code, busyMessage(max))) });
}

/** Starts listening; rejects when the address cannot be bound. */
export async function listen(opts: ListenOptions): Promise<RunningListener> {
  const { shared, maxConnections } = opts;
  const log = shared.log;
  const sessions = new Set<IrodsSession>();
  /** Sessions not logged in yet, the longest-waiting first (a Set keeps insertion order). */
  const loggingIn = new Set<IrodsSession>();
  let loggedIn = 0;
  const refusing = new Set<Socket>();
  let closing = false;
  // `connections`: how many this line stands for (a burst's first, or those counted since the last line)
  const refusals = new BurstLog((connections) => log.warn({ max: maxConnections, connections }, 'connection refused: limit reached'));
  const evictions = new BurstLog((connections) =>
    log.info({ max: maxConnections, connections }, 'connection closed before its login: as many others were logging in, and a new one came'),
  );

  const refuse = (socket: Socket): void => {
    if (refusing.size >= maxConnections) {
      socket.destroy();
      return;
    }
    refusing.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => refusing.delete(socket));
    // the client reads this after sending its startup pack; what it sends meanwhile is dropped
    socket.resume();
    for (const b of busyReply(maxConnections)) socket.write(b);
    socket.end();
    setTimeout(() => socket.destroy(), 2000).unref();
  };

  const server: Server = createServer((socket) => {
    if (closing) {
      socket.destroy();
      return;
    }
    if (loggedIn >= maxConnections) {
      refusals.note();
      refuse(socket);
      return;
    }
    if (loggingIn.size >= maxConnections) {
      const oldest = loggingIn.values().next().value!;
      loggingIn.delete(oldest);
      evictions.note();
      oldest.close();
    }
    let counted = false;
    const session: IrodsSession = new IrodsSession(socket, shared, () => {
      if (counted) return;
      // a session closed to make room is no longer among those logging in: it may not log in either
      if (!loggingIn.has(session) || loggedIn >= maxConnections) throw new IrodsError('SYS_EXCEED_CONNECT_CNT', busyMessage(maxConnections));
      loggingIn.delete(session);
      loggedIn++;
      counted = true;
    });
    sessions.add(session);
    loggingIn.add(session);
    void session.run().finally(() => {
      sessions.delete(session);
      loggingIn.delete(session);
      if (counted) loggedIn--;
    });
  });
  // accept failures (EMFILE and the like) must not end the process; the server keeps listening
  const onError = (err: Error): void => log.error({ err: err.message }, 'protocol listener error');

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host, port: opts.port }, () => {
      server.off('error', reject);
      server.on('error', onError);
      resolve();
    });
  });
  const bound = server.address();
  const address = { host: opts.host, port: typeof bound === 'object' && bound ? bound.port : opts.port };

  let closed: Promise<void> | undefined;
  return {
    address,
    get connections() {
      return sessions.size;
    },
    close: () =>
      (closed ??= (async () => {
        closing = true;
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const s of refusing) s.destroy();
        const running = [...sessions];
        for (const s of running) s.close();
        await Promise.all(running.map((s) => s.done));
        await stopped;
        refusals.close();
        evictions.close();
      })()),
  };
}
