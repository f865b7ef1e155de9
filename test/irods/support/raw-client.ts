/**
 * A bare protocol client on a Node socket, for tests that send what no real
 * client would: it frames what it is told and reads replies with the
 * server's own reader.
 */
import { connect, type Socket } from 'node:net';
import { expectedResponse } from '../../../src/irods/server/native-auth.js';
import { DEFAULT_FRAME_LIMITS, frameMessage, MessageReader, type RawMessage } from '../../../src/irods/wire/framing.js';
import { decodePi, encodePi } from '../../../src/irods/wire/xml.js';
import type { PiMessage, PiNode } from '../../../src/irods/wire/pi-values.js';

export interface RawClient {
  socket: Socket;
  /** Sends raw bytes. */
  write(bytes: Buffer | string): void;
  /** Sends one framed message. */
  send(type: string, opts?: { intInfo?: number; body?: PiMessage | Buffer | string; bs?: Buffer }): void;
  /** Reads one reply; null when the server closed. */
  next(): Promise<RawMessage | null>;
  /** Reads one reply and decodes its body and error. */
  reply(): Promise<{ intInfo: number; type: string; body: PiNode | null; bodyName: string | null; error: string | null; bs: Buffer }>;
  /** Resolves when the server has closed the connection. */
  closed: Promise<void>;
  close(): void;
}

export const STARTUP = (user = 'rods', zone = 'testZone', extra: Partial<Record<string, string | number>> = {}): PiMessage => ({
  name: 'StartupPack_PI',
  fields: {
    irodsProt: 1,
    reconnFlag: 0,
    connectCnt: 0,
    proxyUser: user,
    proxyRcatZone: zone,
    clientUser: user,
    clientRcatZone: zone,
    relVersion: 'rods4.3.0',
    apiVersion: 'd',
    option: '',
    ...extra,
  },
});

export async function rawClient(port: number): Promise<RawClient> {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const reader = new MessageReader(socket, { ...DEFAULT_FRAME_LIMITS, maxMessageBytes: 1024 * 1024 * 1024 });
  const client: RawClient = {
    socket,
    closed,
    write: (bytes) => socket.write(bytes),
    send(type, opts = {}) {
      const body = opts.body === undefined ? undefined : Buffer.isBuffer(opts.body) ? opts.body : typeof opts.body === 'string' ? Buffer.from(opts.body) : encodePi(opts.body);
      for (const b of frameMessage(type, { intInfo: opts.intInfo, body, bs: opts.bs })) socket.write(b);
    },
    next: () => reader.next(),
    async reply() {
      const m = await reader.next();
      if (!m) throw new Error('the server closed the connection');
      const decoded = m.body.length ? decodePi(m.body) : null;
      const err = m.error.length ? decodePi(m.error).node : null;
      const msg = err ? ((err.RErrMsg_PI as PiNode).msg as string) : null;
      return { intInfo: m.header.intInfo, type: m.header.type, body: decoded?.node ?? null, bodyName: decoded?.name ?? null, error: msg, bs: m.bs };
    },
    close: () => socket.destroy(),
  };
  return client;
}

/** Connects, sends the startup pack and reads the version. */
export async function connected(port: number, user = 'rods', zone?: string): Promise<RawClient> {
  const c = await rawClient(port);
  c.send('RODS_CONNECT', { body: STARTUP(user, zone) });
  const v = await c.reply();
  if (v.type !== 'RODS_VERSION' || v.intInfo !== 0) throw new Error(`startup refused: ${JSON.stringify(v)}`);
  return c;
}

/** Connects and logs in with native authentication. */
export async function loggedIn(port: number, user: string, password: string, zone?: string): Promise<RawClient> {
  const c = await connected(port, user, zone);
  c.send('RODS_API_REQ', { intInfo: 703 });
  const challenge = Buffer.from((await c.reply()).body!.challenge as string, 'base64');
  c.send('RODS_API_REQ', { intInfo: 704, body: { name: 'authResponseInp_PI', fields: { response: expectedResponse(challenge, password), username: user } } });
  const r = await c.reply();
  if (r.intInfo !== 0) throw new Error(`login failed: ${r.intInfo} ${r.error}`);
  return c;
}
