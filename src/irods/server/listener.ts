/**
 * The TCP side of the protocol server: accepts connections, runs one
 * {@link IrodsSession} each, bounds how many run at once, and ends them all
 * on close.
 *
 * A connection beyond the limit is answered as iRODS answers it (iRODS 4.3.5
 * `rodsServer.cpp`: a version reply with status `SYS_EXCEED_CONNECT_CNT`)
 * and closed; beyond twice the limit sockets are dropped unanswered, so a
 * flood costs no more than a socket each.
 *
 * @module
 */
import { createServer, type Server, type Socket } from 'node:net';
import { IrodsSession, SERVER_API_VERSION, SERVER_REL_VERSION, errorStack, type SessionShared } from './connection.js';
import { IRODS_ERRORS } from '../wire/error-codes.js';
import { frameMessage, MSG_TYPE } from '../wire/framing.js';
import { encodePi } from '../wire/xml.js';

/** Options of {@link listen}. */
export interface ListenOptions {
  host: string;
  /** 0: any free port. */
  port: number;
  /** Sessions served at once. */
  maxConnections: number;
  shared: SessionShared;
}

/** A listening server. */
export interface RunningListener {
  /** The bound address (the real port when 0 was asked for). */
  readonly address: { host: string; port: number };
  /** Sessions running now. */
  readonly connections: number;
  /** Stops accepting, ends every connection, waits for their cleanups. Idempotent. */
  close(): Promise<void>;
}

/** The version reply refusing a connection beyond the limit. */
function busyReply(max: number): Buffer[] {
  const code = IRODS_ERRORS.SYS_EXCEED_CONNECT_CNT;
  const version = {
    name: 'Version_PI',
    fields: { status: code, relVersion: SERVER_REL_VERSION, apiVersion: SERVER_API_VERSION, reconnPort: 0, reconnAddr: '', cookie: 400 },
  };
  const message = `the server is serving its limit of ${max} connections; try again later`;
  return frameMessage(MSG_TYPE.VERSION, { intInfo: code, body: encodePi(version), error: encodePi(errorStack(code, message)) });
}

/** Starts listening; rejects when the address cannot be bound. */
export async function listen(opts: ListenOptions): Promise<RunningListener> {
  const { shared, maxConnections } = opts;
  const log = shared.log;
  const sessions = new Set<IrodsSession>();
  const refusing = new Set<Socket>();
  let closing = false;

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
    if (sessions.size >= maxConnections) {
      log.warn({ max: maxConnections }, 'connection refused: limit reached');
      refuse(socket);
      return;
    }
    const session = new IrodsSession(socket, shared);
    sessions.add(session);
    void session.run().finally(() => sessions.delete(session));
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
      })()),
  };
}
