/**
 * A raw iRODS protocol connection for tests that send what no client would:
 * frames built by hand (4-byte big-endian header length, `MsgHeader_PI` XML,
 * body, error, bytes), a reader that splits the server's answers into
 * messages and notices when the server closes, and just enough of a client
 * (startup pack, native authentication) to reach the authenticated state.
 * Written from the protocol facts (shared/spec/irods-protocol.md; packing as
 * python-irodsclient 0.8.1 sends it), independent of the server's own codec.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** A message as the server sent it. */
export interface WireMessage {
  readonly type: string;
  readonly intInfo: number;
  readonly msg: Buffer;
  readonly error: Buffer;
  readonly bs: Buffer;
}

/** XML-escapes text for an element. */
function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** The `MsgHeader_PI` XML with the given (possibly lying) lengths. */
export function headerXml(type: string, lens: { msgLen?: number; errorLen?: number; bsLen?: number; intInfo?: number } = {}): string {
  return (
    `<MsgHeader_PI><type>${type}</type><msgLen>${lens.msgLen ?? 0}</msgLen><errorLen>${lens.errorLen ?? 0}</errorLen>` +
    `<bsLen>${lens.bsLen ?? 0}</bsLen><intInfo>${lens.intInfo ?? 0}</intInfo></MsgHeader_PI>`
  );
}

/** 4-byte big-endian length, then `header` (the length is the header's unless `length` lies). */
export function lengthPrefixed(header: string | Buffer, length?: number): Buffer {
  const h = Buffer.from(header);
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(length ?? h.length);
  return Buffer.concat([prefix, h]);
}

/** A whole, honest message. */
export function frame(type: string, parts: { msg?: string | Buffer; error?: Buffer; bs?: Buffer; intInfo?: number } = {}): Buffer {
  const msg = Buffer.from(parts.msg ?? '');
  const error = parts.error ?? Buffer.alloc(0);
  const bs = parts.bs ?? Buffer.alloc(0);
  const header = headerXml(type, { msgLen: msg.length, errorLen: error.length, bsLen: bs.length, intInfo: parts.intInfo ?? 0 });
  return Buffer.concat([lengthPrefixed(header), msg, error, bs]);
}

/** `StartupPack_PI` as python-irodsclient 0.8.1 sends it (XML protocol, no negotiation unless `option` asks). */
export function startupPack(user: string, zone: string, opts: { irodsProt?: number; option?: string } = {}): string {
  return (
    `<StartupPack_PI><irodsProt>${opts.irodsProt ?? 1}</irodsProt><connectCnt>0</connectCnt>` +
    `<proxyUser>${esc(user)}</proxyUser><proxyRcatZone>${esc(zone)}</proxyRcatZone>` +
    `<clientUser>${esc(user)}</clientUser><clientRcatZone>${esc(zone)}</clientRcatZone>` +
    `<relVersion>rods4.3.0</relVersion><apiVersion>d</apiVersion><option>${esc(opts.option ?? '')}</option></StartupPack_PI>`
  );
}

/** `DataObjInp_PI` for a path (stat, open and friends), as python-irodsclient 0.8.1 packs it. */
export function dataObjInp(path: string): string {
  return (
    `<DataObjInp_PI><objPath>${esc(path)}</objPath><createMode>0</createMode><openFlags>0</openFlags>` +
    `<offset>0</offset><dataSize>-1</dataSize><numThreads>0</numThreads><oprType>0</oprType>` +
    `<KeyValPair_PI><ssLen>0</ssLen></KeyValPair_PI></DataObjInp_PI>`
  );
}

/** `generalAdminInp_PI` with up to ten arguments. */
export function generalAdminInp(...args: string[]): string {
  const all = [...args, ...Array(10).fill('')].slice(0, 10);
  return `<generalAdminInp_PI>${all.map((a, i) => `<arg${i}>${esc(a)}</arg${i}>`).join('')}</generalAdminInp_PI>`;
}

/** `OpenedDataObjInp_PI` for read/write/close on descriptor `fd`. */
export function openedDataObjInp(fd: number, len: number): string {
  return (
    `<OpenedDataObjInp_PI><l1descInx>${fd}</l1descInx><len>${len}</len><whence>0</whence><oprType>0</oprType>` +
    `<offset>0</offset><bytesWritten>0</bytesWritten><KeyValPair_PI><ssLen>0</ssLen></KeyValPair_PI></OpenedDataObjInp_PI>`
  );
}

/** Upper bound on what the reader accepts from the server for one header. */
const MAX_REPLY_HEADER = 64 * 1024;

/** One raw connection: send anything, read the server's messages, see it close. */
export class WireConnection {
  readonly socket: Socket;
  private buf = Buffer.alloc(0);
  private readonly queue: WireMessage[] = [];
  private waiter: (() => void) | undefined;
  /** Bytes that were not a well-formed message (the reader stops parsing at them). */
  garbage: Buffer | undefined;
  /** Resolves when the server's side is closed or reset. */
  readonly closed: Promise<void>;
  private isClosed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.parse();
      this.wake();
    });
    socket.on('error', () => {}); // a reset is a close for these tests
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.isClosed = true;
        this.wake();
        resolve();
      }),
    );
  }

  /** Opens a connection to `host:port`. */
  static open(host: string, port: number): Promise<WireConnection> {
    return new Promise((resolve, reject) => {
      const s = connect({ host, port });
      s.once('connect', () => resolve(new WireConnection(s)));
      s.once('error', reject);
    });
  }

  /** True once the server has closed (or reset) the connection. */
  get isServerClosed(): boolean {
    return this.isClosed;
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private parse(): void {
    while (!this.garbage && this.buf.length >= 4) {
      const hlen = this.buf.readUInt32BE(0);
      if (hlen === 0 || hlen > MAX_REPLY_HEADER) {
        this.garbage = this.buf;
        return;
      }
      if (this.buf.length < 4 + hlen) return;
      const header = this.buf.subarray(4, 4 + hlen).toString('utf8');
      const field = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(header)?.[1];
      const type = field('type');
      const lens = ['msgLen', 'errorLen', 'bsLen'].map((n) => Number(field(n)));
      const intInfo = Number(field('intInfo'));
      if (type === undefined || lens.some((n) => !Number.isInteger(n) || n < 0) || !Number.isInteger(intInfo)) {
        this.garbage = this.buf;
        return;
      }
      const total = 4 + hlen + lens[0] + lens[1] + lens[2];
      if (this.buf.length < total) return;
      let at = 4 + hlen;
      const take = (n: number) => {
        const part = this.buf.subarray(at, at + n);
        at += n;
        return Buffer.from(part);
      };
      this.queue.push({ type, intInfo, msg: take(lens[0]), error: take(lens[1]), bs: take(lens[2]) });
      this.buf = this.buf.subarray(total);
    }
  }

  /** Sends raw bytes (ignoring a write after the server closed). */
  send(bytes: Buffer | string): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /**
   * The next message, or undefined when the server closes first. Rejects
   * after `timeoutMs` (a server that neither answers nor closes: a hang).
   */
  async next(timeoutMs = 10_000): Promise<WireMessage | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.queue.shift();
      if (m) return m;
      if (this.isClosed || this.garbage) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no answer and no close within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Waits for the server to close; returns every message it sent first. Rejects after `timeoutMs`. */
  async untilClosed(timeoutMs = 10_000): Promise<WireMessage[]> {
    const got: WireMessage[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = await this.next(Math.max(deadline - Date.now(), 1));
      if (!m) break;
      got.push(m);
    }
    if (!this.isClosed) {
      // garbage from the server: the rest of the stream is not messages; still wait for the close
      await Promise.race([this.closed, new Promise((_, reject) => setTimeout(() => reject(new Error(`server did not close within ${timeoutMs} ms`)), Math.max(deadline - Date.now(), 1)))]);
    }
    return got;
  }

  /** Half-closes our side (the server reads end of stream). */
  end(): void {
    this.socket.end();
  }

  /** Drops the connection at once. */
  destroy(): void {
    this.socket.destroy();
  }

  /** Sends the startup pack and returns the server's version reply. */
  async startup(user: string, zone: string): Promise<WireMessage> {
    this.send(frame('RODS_CONNECT', { msg: startupPack(user, zone) }));
    const v = await this.next();
    if (!v) throw new Error('the server closed instead of answering the startup pack');
    return v;
  }

  /** Sends an API request and returns the reply (undefined when the server closed instead). */
  async api(apiNumber: number, msg = '', bs?: Buffer, timeoutMs?: number): Promise<WireMessage | undefined> {
    this.send(frame('RODS_API_REQ', { msg, bs, intInfo: apiNumber }));
    return this.next(timeoutMs);
  }

  /**
   * Native authentication (API 703, then 704 with MD5 over the challenge and
   * the password zero-padded to 50 bytes, zero bytes of the digest made 1).
   * Returns the 704 reply.
   */
  async authenticate(user: string, password: string): Promise<WireMessage | undefined> {
    const challengeReply = await this.api(703);
    if (!challengeReply || challengeReply.intInfo < 0) return challengeReply;
    const b64 = /<challenge>([^<]*)<\/challenge>/.exec(challengeReply.msg.toString('utf8'))?.[1];
    if (b64 === undefined) throw new Error(`no challenge in ${challengeReply.msg.toString('utf8')}`);
    const padded = Buffer.alloc(50);
    Buffer.from(password, 'utf8').copy(padded);
    const digest = createHash('md5').update(Buffer.from(b64, 'base64')).update(padded).digest();
    for (let i = 0; i < digest.length; i++) if (digest[i] === 0) digest[i] = 1;
    return this.api(704, `<authResponseInp_PI><response>${digest.toString('base64')}</response><username>${esc(user)}</username></authResponseInp_PI>`);
  }
}

/** A connection that has passed startup and native authentication as `user`. */
export async function authenticated(host: string, port: number, zone: string, user: string, password: string): Promise<WireConnection> {
  const c = await WireConnection.open(host, port);
  const v = await c.startup(user, zone);
  if (v.intInfo < 0) throw new Error(`startup refused: ${v.intInfo}`);
  const r = await c.authenticate(user, password);
  if (!r || r.intInfo < 0) throw new Error(`authentication failed: ${r?.intInfo ?? 'closed'}`);
  return c;
}
