/**
 * iRODS message framing (iRODS 4.3.5 `sockComm.cpp` `readMsgHeader` /
 * `readMsgBody` / `sendRodsMsg`): a 4-byte big-endian header length, the
 * header `MsgHeader_PI` in XML (`type`, `msgLen`, `errorLen`, `bsLen`,
 * `intInfo`), then `msgLen` bytes of packed body, `errorLen` bytes of packed
 * `RError_PI`, and `bsLen` raw bytes (a read's or a write's data).
 *
 * The reader bounds everything a peer claims before it waits for it: a
 * header above {@link FrameLimits.maxHeaderBytes} or a message above
 * {@link FrameLimits.maxMessageBytes} is a {@link FramingError} at once, and
 * a peer that stops sending is timed out by the caller's idle bound. Data
 * bytes come out as the socket's chunks they arrived in, uncopied; they are
 * joined into one buffer (one copy) only for a reader that asks for that.
 *
 * @module
 */
import type { Duplex } from 'node:stream';
import type { IrodsErrorName } from './error-codes.js';
import { IrodsError } from './irods-error.js';
import { text } from './pi-values.js';
import { decodePi } from './xml.js';

/** Message types (iRODS 4.3.5 `rodsDef.h`). */
export const MSG_TYPE = {
  CONNECT: 'RODS_CONNECT',
  VERSION: 'RODS_VERSION',
  API_REQ: 'RODS_API_REQ',
  API_REPLY: 'RODS_API_REPLY',
  DISCONNECT: 'RODS_DISCONNECT',
  RECONNECT: 'RODS_RECONNECT',
  CS_NEG: 'RODS_CS_NEG_T',
} as const;

/** A decoded `MsgHeader_PI`. */
export interface MsgHeader {
  type: string;
  msgLen: number;
  errorLen: number;
  bsLen: number;
  intInfo: number;
}

/** One message as read: the packed body and error as bytes, and the raw data. */
export interface RawMessage {
  header: MsgHeader;
  body: Buffer;
  error: Buffer;
  /** The raw data as one buffer: joined (copied) from {@link RawMessage.bsParts} on first use when they are several. */
  readonly bs: Buffer;
  /**
   * The raw data as it arrived: views into the stream's chunks, uncopied. A
   * handler that moves the bytes elsewhere (a write into the vault) copies
   * them once from here instead of from a joined copy.
   */
  readonly bsParts: readonly Buffer[];
}

/** A message whose data is joined only when asked for (a class: a getter in an object literal costs a map per message). */
class ReadMessage implements RawMessage {
  private joined: Buffer | undefined;

  constructor(
    readonly header: MsgHeader,
    readonly body: Buffer,
    readonly error: Buffer,
    readonly bsParts: readonly Buffer[],
  ) {}

  get bs(): Buffer {
    return (this.joined ??= joinParts(this.bsParts));
  }
}

/** `parts` as one buffer: the one part itself, or a copy of them all. */
function joinParts(parts: readonly Buffer[]): Buffer {
  return parts.length === 0 ? EMPTY : parts.length === 1 ? parts[0]! : Buffer.concat(parts as Buffer[]);
}

/** Bounds of what a peer may send. */
export interface FrameLimits {
  /** Largest `MsgHeader_PI` in bytes (a real one is under 200). */
  maxHeaderBytes: number;
  /** Largest `msgLen + errorLen + bsLen` of one message. */
  maxMessageBytes: number;
  /**
   * Largest `msgLen + errorLen`: the packed part, which is parsed into many
   * small values (the data bytes are kept as one buffer). Default 16 MiB.
   */
  maxBodyBytes?: number;
  /** Buffered bytes beyond the message being read after which the socket is paused. */
  highWaterBytes?: number;
  /** The code of a refusal for lengths above these bounds. Default SYS_READ_MSG_BODY_LEN_ERR. */
  oversizeCode?: IrodsErrorName;
}

/** The bounds iRODS clients need: 8 KiB headers, 64 MiB messages (python-irodsclient 0.8.1 writes 8 MiB at a time). */
export const DEFAULT_FRAME_LIMITS: FrameLimits = {
  maxHeaderBytes: 8 * 1024,
  maxMessageBytes: 64 * 1024 * 1024,
  maxBodyBytes: 16 * 1024 * 1024,
  highWaterBytes: 1024 * 1024,
};

/**
 * The bounds until a client has logged in: every message it may send by
 * then (the startup pack, the negotiation answer, the authentication
 * request and response, the disconnect) is a small structure, and whoever
 * can reach the port can send them. A startup pack holds seven names of at
 * most 64 bytes and an option of at most 256 (`startupPack_t`, 652 bytes);
 * iRODS refuses one whose msgLen is above twice that, or not positive, with
 * SYS_HEADER_READ_LEN_ERR (iRODS 4.3.5 `server/core/src/miscServerFunct.cpp`
 * `readStartupPack`, the same in 4.2). 4 KiB leaves room for XML escapes in
 * the names. The same bound covers the error and data parts, which no login
 * message has: the whole of a message is then never more than 4 KiB to
 * buffer or decode, where the bounds after login (16 MiB to decode, 64 MiB
 * to buffer) would let each unauthenticated connection hold that much
 * memory, and stall the one thread decoding it.
 */
export const LOGIN_FRAME_LIMITS: FrameLimits = {
  maxHeaderBytes: 1024,
  maxMessageBytes: 4 * 1024,
  maxBodyBytes: 4 * 1024,
  highWaterBytes: 16 * 1024,
  oversizeCode: 'SYS_HEADER_READ_LEN_ERR',
};

/** {@link FrameLimits} with every bound set. */
export type FrameBounds = Required<FrameLimits>;

/**
 * `limits` with the defaults filled in, as an object of one shape whatever
 * object `limits` was: the login bounds and a session's settings (which
 * hold more than frame bounds) would otherwise be two hidden classes, and
 * the reader's optimised code, made for the session's during the first
 * client's requests, was thrown away when the next client's login met the
 * other.
 */
export function frameBounds(limits: FrameLimits): FrameBounds {
  return {
    maxHeaderBytes: limits.maxHeaderBytes,
    maxMessageBytes: limits.maxMessageBytes,
    maxBodyBytes: limits.maxBodyBytes ?? DEFAULT_FRAME_LIMITS.maxBodyBytes!,
    highWaterBytes: limits.highWaterBytes ?? DEFAULT_FRAME_LIMITS.highWaterBytes!,
    oversizeCode: limits.oversizeCode ?? 'SYS_READ_MSG_BODY_LEN_ERR',
  };
}

/**
 * A message the peer framed wrongly, or a peer that vanished or went quiet.
 * The connection cannot go on after one; `canReply` says whether an error
 * reply can still be framed for the peer before closing.
 */
export class FramingError extends IrodsError {
  constructor(
    codeName: IrodsErrorName,
    message: string,
    /** Whether the peer can still read a framed error reply. */
    readonly canReply: boolean,
  ) {
    super(codeName, message);
    this.name = 'FramingError';
  }
}

/** The peer closed or reset the connection in the middle of a message. */
export class PeerGoneError extends FramingError {
  constructor(detail: string) {
    super('SYS_HEADER_READ_LEN_ERR', `the client closed the connection ${detail}`, false);
    this.name = 'PeerGoneError';
  }
}

/** The peer sent nothing for the idle bound while the server waited for it. */
export class IdleTimeoutError extends FramingError {
  constructor(ms: number) {
    super('SYS_HEADER_READ_LEN_ERR', `the client sent nothing for ${Math.round(ms / 1000)} s`, false);
    this.name = 'IdleTimeoutError';
  }
}

const EMPTY = Buffer.alloc(0);

/** A header's XML (ASCII: the type is a name, the rest numbers). */
function headerXml(h: MsgHeader): string {
  return (
    `<MsgHeader_PI><type>${h.type}</type><msgLen>${h.msgLen}</msgLen><errorLen>${h.errorLen}</errorLen>` +
    `<bsLen>${h.bsLen}</bsLen><intInfo>${h.intInfo}</intInfo></MsgHeader_PI>\n`
  );
}

/** The 4-byte length and XML of a header. */
export function encodeHeader(h: MsgHeader): Buffer {
  const xml = headerXml(h);
  const out = Buffer.allocUnsafe(4 + Buffer.byteLength(xml));
  out.writeUInt32BE(out.length - 4, 0);
  out.write(xml, 4, 'utf8');
  return out;
}

/** What one outgoing message carries besides its type. */
export interface OutgoingParts {
  intInfo?: number;
  body?: Buffer;
  error?: Buffer;
  bs?: Buffer;
}

/** Data bytes up to this many are copied into the message's one buffer: one write, one system call. */
export const JOINED_DATA_BYTES = 64 * 1024;

/**
 * A message as the buffers to write: header, body and error joined (small),
 * with the data bytes when they are few (a small read's reply is one write),
 * else the data bytes as they are, uncopied.
 */
export function frameMessage(type: string, parts: OutgoingParts = {}): Buffer[] {
  const body = parts.body ?? EMPTY;
  const error = parts.error ?? EMPTY;
  const bs = parts.bs ?? EMPTY;
  const xml = headerXml({ type, msgLen: body.length, errorLen: error.length, bsLen: bs.length, intInfo: parts.intInfo ?? 0 });
  // header, body and error in one buffer, written in place (a reply's small part is one allocation)
  const xmlLen = Buffer.byteLength(xml);
  const joined = bs.length <= JOINED_DATA_BYTES;
  const packedEnd = 4 + xmlLen + body.length + error.length;
  const first = Buffer.allocUnsafe(joined ? packedEnd + bs.length : packedEnd);
  first.writeUInt32BE(xmlLen, 0);
  first.write(xml, 4, 'utf8');
  body.copy(first, 4 + xmlLen);
  error.copy(first, 4 + xmlLen + body.length);
  if (joined) {
    bs.copy(first, packedEnd);
    return [first];
  }
  return [first, bs];
}

const HEADER_INT = /^-?\d{1,10}$/;

/** Decodes and checks a header's XML against the limits. */
export function parseHeader(xml: Buffer, limits: FrameLimits): MsgHeader {
  return checkLengths(parseHeaderFields(xml), frameBounds(limits));
}

/** Decodes a header's XML; its lengths are not checked. */
function parseHeaderFields(xml: Buffer): MsgHeader {
  return parseCanonicalHeader(xml) ?? parseAnyHeader(xml);
}

/**
 * A header as clients write it (python-irodsclient 0.8.1
 * `iRODSMessage.pack_header`; iRODS C clients put newlines between the
 * fields): read with one expression instead of the XML decoder, which
 * costs more than the rest of a small request. Anything else, including
 * every malformed header, is left to the decoder and its errors.
 */
const CANONICAL_HEADER =
  /^<MsgHeader_PI>\s*<type>([A-Za-z0-9_]{1,128})<\/type>\s*<msgLen>(\d{1,10})<\/msgLen>\s*<errorLen>(\d{1,10})<\/errorLen>\s*<bsLen>(\d{1,10})<\/bsLen>\s*<intInfo>(-?\d{1,10})<\/intInfo>\s*<\/MsgHeader_PI>\s*$/;

function parseCanonicalHeader(xml: Buffer): MsgHeader | undefined {
  const m = CANONICAL_HEADER.exec(xml.toString('latin1'));
  if (!m) return undefined;
  return { type: m[1]!, msgLen: Number(m[2]), errorLen: Number(m[3]), bsLen: Number(m[4]), intInfo: Number(m[5]) };
}

function parseAnyHeader(xml: Buffer): MsgHeader {
  let decoded;
  try {
    decoded = decodePi(xml, { maxDepth: 2 });
  } catch (err) {
    throw new FramingError('SYS_HEADER_READ_LEN_ERR', `malformed message header: ${(err as Error).message}`, true);
  }
  if (decoded.name !== 'MsgHeader_PI') throw new FramingError('SYS_HEADER_READ_LEN_ERR', `expected a MsgHeader_PI, got <${decoded.name.slice(0, 40)}>`, true);
  const node = decoded.node;
  const field = (key: string): number => {
    const t = typeof node[key] === 'string' ? (node[key] as string).trim() : '';
    if (!HEADER_INT.test(t)) throw new FramingError('SYS_HEADER_READ_LEN_ERR', `message header field ${key} must be an integer`, true);
    return Number(t);
  };
  let type: string;
  try {
    type = text(node, 'type');
  } catch {
    throw new FramingError('SYS_HEADER_TPYE_LEN_ERR', 'message header field type must be text', true);
  }
  if (type.length === 0 || type.length > 128) throw new FramingError('SYS_HEADER_TPYE_LEN_ERR', 'message header type must be 1 to 128 characters', true);
  return { type, msgLen: field('msgLen'), errorLen: field('errorLen'), bsLen: field('bsLen'), intInfo: field('intInfo') };
}

/** Checks a header's lengths against the limits. */
function checkLengths(h: MsgHeader, limits: FrameBounds): MsgHeader {
  for (const key of ['msgLen', 'errorLen', 'bsLen'] as const) {
    if (h[key] < 0) throw new FramingError('SYS_HEADER_READ_LEN_ERR', `message header field ${key} is negative (${h[key]})`, true);
  }
  const packed = h.msgLen + h.errorLen;
  const maxBody = limits.maxBodyBytes;
  if (packed > maxBody) {
    throw new FramingError(limits.oversizeCode, `a message body of ${packed} bytes is larger than this server accepts (${maxBody})`, true);
  }
  const total = packed + h.bsLen;
  if (total > limits.maxMessageBytes) {
    throw new FramingError(
      limits.oversizeCode,
      `a message of ${total} bytes is larger than this server accepts (${limits.maxMessageBytes}); send data in smaller pieces`,
      true,
    );
  }
  return h;
}

/** How many parsed headers a reader keeps for reuse: a put's five kinds of request, each with its own. */
const RECENT_HEADERS = 6;

/**
 * A free slot of a reader's recent headers: its empty key equals no
 * header's bytes (a header is never empty). Not frozen, so that it has the
 * hidden class of the slots that replace it.
 */
const NO_RECENT_HEADER: Readonly<{ bytes: Buffer; header: MsgHeader }> = {
  bytes: EMPTY,
  header: Object.freeze({ type: '', msgLen: 0, errorLen: 0, bsLen: 0, intInfo: 0 }),
};

/**
 * Slots for a reader's recent headers, all taken from the start: an array
 * that grows from empty changes its hidden class at its first element, and
 * the reader's optimised code, made for full slots while the first client
 * put files, was thrown away when the next client's first header met an
 * empty array.
 */
function freeRecentHeaders(): Array<{ bytes: Buffer; header: MsgHeader }> {
  const slots = [];
  for (let i = 0; i < RECENT_HEADERS; i++) slots.push(NO_RECENT_HEADER);
  return slots;
}

interface Waiter {
  bytes: number;
  resolve(): void;
  reject(err: Error): void;
}

/**
 * Reads framed messages from a stream, one at a time, with bounds. Only one
 * read may be pending at a time (the session is strictly request, reply).
 */
export class MessageReader {
  /**
   * The chunks received, taken ones replaced by {@link EMPTY} up to `head`.
   * It starts with one taken chunk, not empty: an empty array starts out
   * holding small integers and changes its hidden class at the first push
   * of a chunk, so the optimised `onData` met a new hidden class, and was
   * thrown away, at each new connection.
   */
  private chunks: Buffer[] = [EMPTY];
  private head = 1;
  private buffered = 0;
  private waiter: Waiter | undefined;
  private ended = false;
  private failure: Error | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The bound {@link MessageReader.timer} was made with. */
  private timerMs = 0;
  /** The header of the message being read, once its bytes are taken. */
  private pending: MsgHeader | undefined;
  /** The bounds in force (see {@link frameBounds}). */
  private limits: FrameBounds;
  private attached = true;
  private discarding = false;
  /** The last few headers parsed, with their bytes (see {@link MessageReader.header}). */
  private readonly recentHeaders = freeRecentHeaders();
  private nextRecent = 0;

  private readonly onData = (chunk: Buffer): void => {
    if (this.discarding) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const w = this.waiter;
    if (w) {
      if (this.buffered >= w.bytes) {
        this.waiter = undefined;
        w.resolve();
      } else this.timer?.refresh();
    } else if (this.buffered > this.limits.highWaterBytes) {
      // the peer sends ahead of the session: stop reading until the next message is wanted
      this.stream.pause();
    }
  };
  private readonly onEnd = (): void => {
    this.ended = true;
    this.wake();
  };
  private readonly onError = (err: Error): void => {
    this.failure ??= err;
    this.wake();
  };

  constructor(
    private readonly stream: Duplex,
    limits: FrameLimits,
    /** Milliseconds the peer may stay silent while a read waits (0: no bound). */
    private idleMs = 0,
  ) {
    this.limits = frameBounds(limits);
    stream.on('data', this.onData);
    stream.on('end', this.onEnd);
    stream.on('close', this.onEnd);
    stream.on('error', this.onError);
  }

  /** Changes the bounds for the messages that follow (a session's, once its client logged in). */
  setLimits(limits: FrameLimits): void {
    this.limits = frameBounds(limits);
    // a header kept from before was checked against the old bounds
    this.recentHeaders.fill(NO_RECENT_HEADER);
    this.nextRecent = 0;
  }

  /** Changes the idle bound for the reads that follow. */
  setIdleTimeout(ms: number): void {
    this.idleMs = ms;
  }

  /** Bytes received and not yet read. */
  get pendingBytes(): number {
    return this.buffered;
  }

  private wake(): void {
    // the stream is over: no wait needs the timer, and it would keep this reader alive until it ran out
    this.clearTimer();
    const w = this.waiter;
    if (!w) return;
    this.waiter = undefined;
    w.reject(this.failure ? new PeerGoneError(`(${this.failure.message})`) : new PeerGoneError('in the middle of a message'));
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Waits until `bytes` are buffered. The idle bound is one timer per
   * reader, pushed back on every wait and every chunk that arrives (a new
   * timer per wait cost more than parsing a small request).
   */
  private async fill(bytes: number): Promise<void> {
    if (this.buffered >= bytes) return;
    await new Promise<void>((resolve, reject) => this.waitFor(bytes, resolve, reject));
  }

  /**
   * Registers the one pending wait: `resolve` once `bytes` are buffered,
   * `reject` on an error, the end of the stream or the idle bound. Throws
   * when no more bytes can come (the reader detached, the stream ended or
   * failed).
   */
  private waitFor(bytes: number, resolve: () => void, reject: (err: Error) => void): void {
    if (!this.attached) throw new Error('the reader was detached from its stream');
    if (this.failure || this.ended) throw new PeerGoneError(this.failure ? `(${this.failure.message})` : 'in the middle of a message');
    this.waiter = { bytes, resolve, reject };
    this.armTimer();
    this.stream.resume();
  }

  /** Starts (or pushes back) the idle bound of the wait now pending. */
  private armTimer(): void {
    if (this.idleMs <= 0) {
      // no bound now: a timer left from an earlier bound must not end this wait
      this.clearTimer();
      return;
    }
    if (this.timer && this.timerMs === this.idleMs) {
      this.timer.refresh();
      return;
    }
    this.clearTimer();
    const ms = (this.timerMs = this.idleMs);
    this.timer = setTimeout(() => {
      // a wait that ended before the bound leaves the timer to run out harmlessly
      const w = this.waiter;
      if (!w) return;
      this.waiter = undefined;
      w.reject(new IdleTimeoutError(ms));
    }, ms);
    this.timer.unref();
  }

  /** Takes `n` buffered bytes as views into the chunks that hold them, uncopied. */
  private takeParts(n: number): Buffer[] {
    const parts: Buffer[] = [];
    let left = n;
    while (left > 0) {
      const c = this.chunks[this.head]!;
      if (c.length <= left) {
        parts.push(c);
        this.chunks[this.head++] = EMPTY;
        left -= c.length;
      } else {
        parts.push(c.subarray(0, left));
        this.chunks[this.head] = c.subarray(left);
        left = 0;
      }
    }
    this.consumed(n);
    return parts;
  }

  /** Takes `n` buffered bytes: a view when one chunk holds them, else one copy. */
  private take(n: number): Buffer {
    if (n === 0) return EMPTY;
    const first = this.chunks[this.head]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks[this.head++] = EMPTY;
      else this.chunks[this.head] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let off = 0;
      while (off < n) {
        const c = this.chunks[this.head]!;
        const k = Math.min(c.length, n - off);
        c.copy(out, off, 0, k);
        off += k;
        if (k === c.length) this.chunks[this.head++] = EMPTY;
        else this.chunks[this.head] = c.subarray(k);
      }
    }
    this.consumed(n);
    return out;
  }

  private consumed(n: number): void {
    this.buffered -= n;
    if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }

  /** Reads exactly `n` raw bytes. */
  async readBytes(n: number): Promise<Buffer> {
    await this.fill(n);
    return this.take(n);
  }

  /** Reads a 4-byte big-endian integer (a client's answer to an intermediate reply). */
  async readInt32(): Promise<number> {
    return (await this.readBytes(4)).readInt32BE(0);
  }

  /**
   * Reads one header; null when the peer closed cleanly between messages.
   * Some messages are a header alone (the TLS key settings), so this is
   * separate from {@link readBody}. Its lengths are not checked against the
   * bounds: in such a message they are values (a key size, hash rounds),
   * not bytes that follow, so the caller checks what it reads.
   */
  async readHeader(): Promise<MsgHeader | null> {
    if (this.buffered === 0) {
      try {
        await this.fill(1);
      } catch (err) {
        // a client that ends or resets between messages has simply gone
        if (err instanceof PeerGoneError && this.buffered === 0) return null;
        throw err;
      }
    }
    const len = (await this.readBytes(4)).readInt32BE(0);
    if (len <= 0 || len > this.limits.maxHeaderBytes) {
      throw new FramingError('SYS_HEADER_READ_LEN_ERR', `a message header of ${len} bytes is outside 1..${this.limits.maxHeaderBytes}`, true);
    }
    return parseHeaderFields(await this.readBytes(len));
  }

  /** Reads the body, error and data a header from {@link readHeader} announced, once they are within the bounds. */
  async readBody(header: MsgHeader): Promise<RawMessage> {
    checkLengths(header, this.limits);
    const body = await this.readBytes(header.msgLen);
    const error = await this.readBytes(header.errorLen);
    await this.fill(header.bsLen);
    return new ReadMessage(header, body, error, this.takeParts(header.bsLen));
  }

  /**
   * The next message when it is buffered whole, else undefined: a caller
   * that finds one here goes on without waiting for a promise. Throws a
   * {@link FramingError} for a malformed header, as {@link next} does.
   */
  takeNext(): RawMessage | undefined {
    return this.takeMessage();
  }

  /**
   * Reads one whole message; null when the peer closed cleanly between
   * messages. A message already buffered whole is taken without waiting;
   * otherwise the wait ends with the message itself, taken as soon as the
   * chunk that completes it arrives (one promise per message, however many
   * chunks it came in).
   */
  next(): Promise<RawMessage | null> {
    return new Promise<RawMessage | null>((resolve, reject) => {
      const step = (): void => {
        let msg: RawMessage | undefined;
        try {
          msg = this.takeMessage();
        } catch (err) {
          reject(err as Error);
          return;
        }
        if (msg) {
          resolve(msg);
          return;
        }
        // a client that ends or resets between messages has simply gone
        const between = this.buffered === 0 && this.pending === undefined;
        const failed = (err: Error): void => (between && err instanceof PeerGoneError && this.buffered === 0 ? resolve(null) : reject(err));
        try {
          this.waitFor(between ? 1 : this.bytesWanted(), step, failed);
        } catch (err) {
          failed(err as Error);
        }
      };
      step();
    });
  }

  /** The next message when all its bytes are buffered; takes its header as soon as that is, checked against the limits. */
  private takeMessage(): RawMessage | undefined {
    let h = this.pending;
    if (h === undefined) {
      if (this.buffered < 4) return undefined;
      const len = this.peekInt32();
      if (len <= 0 || len > this.limits.maxHeaderBytes) {
        throw new FramingError('SYS_HEADER_READ_LEN_ERR', `a message header of ${len} bytes is outside 1..${this.limits.maxHeaderBytes}`, true);
      }
      if (this.buffered < 4 + len) return undefined;
      this.take(4);
      h = this.pending = this.header(this.take(len));
    }
    if (this.buffered < h.msgLen + h.errorLen + h.bsLen) return undefined;
    this.pending = undefined;
    const body = this.take(h.msgLen);
    const error = this.take(h.errorLen);
    return new ReadMessage(h, body, error, this.takeParts(h.bsLen));
  }

  /**
   * A header parsed, or the same parse as one of the last few headers when
   * the bytes are the same: a client's requests of one kind repeat their
   * header byte for byte (a put's seeks, writes and closes), and comparing
   * costs less than parsing. Parsed headers are frozen.
   */
  private header(xml: Buffer): MsgHeader {
    const recent = this.recentHeaders;
    for (let i = 0; i < recent.length; i++) {
      const r = recent[i]!;
      if (r.bytes.equals(xml)) return r.header;
    }
    const header = Object.freeze(checkLengths(parseHeaderFields(xml), this.limits));
    // the header is a view into the stream's chunk: the key is a copy
    recent[this.nextRecent] = { bytes: Buffer.from(xml), header };
    this.nextRecent = (this.nextRecent + 1) % RECENT_HEADERS;
    return header;
  }

  /** Bytes that must be buffered before {@link MessageReader.takeMessage} can go further. */
  private bytesWanted(): number {
    const h = this.pending;
    if (h) return h.msgLen + h.errorLen + h.bsLen;
    return this.buffered < 4 ? 4 : 4 + this.peekInt32();
  }

  /** The big-endian integer in the first 4 buffered bytes, not taken. */
  private peekInt32(): number {
    const first = this.chunks[this.head]!;
    if (first.length >= 4) return first.readInt32BE(0);
    const four = Buffer.allocUnsafe(4);
    let off = 0;
    for (let i = this.head; off < 4; i++) {
      const c = this.chunks[i]!;
      off += c.copy(four, off, 0, Math.min(c.length, 4 - off));
    }
    return four.readInt32BE(0);
  }

  /** Drops what was received and whatever arrives from now on (a connection closing after a refusal). */
  discard(): void {
    this.discarding = true;
    this.clearTimer();
    this.chunks = [EMPTY];
    this.head = 1;
    this.buffered = 0;
    if (this.attached) this.stream.resume();
  }

  /**
   * Stops reading from the stream (before it is handed to TLS). Throws when
   * the peer already sent bytes past the last message: they belong to the
   * layer the stream is handed to, and a well-behaved client never sends
   * them before the server's reply.
   */
  detach(): void {
    this.attached = false;
    this.clearTimer();
    this.stream.off('data', this.onData);
    this.stream.off('end', this.onEnd);
    this.stream.off('close', this.onEnd);
    this.stream.off('error', this.onError);
    this.stream.pause();
    if (this.buffered > 0) throw new FramingError('SYS_HEADER_READ_LEN_ERR', 'the client sent data before the TLS handshake', false);
  }
}
