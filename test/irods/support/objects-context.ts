/**
 * Driving the object and collection API handlers directly, without the
 * wire: a connection context for a store user, request bodies shaped as
 * python-irodsclient 0.8.1 sends them (`message/__init__.py`
 * `FileOpenRequest`, `OpenedDataObjRequest`, `CollectionRequest`,
 * `ObjCopyRequest`), and calls that return the reply or the iRODS error.
 * (Kept beside, not in, the shared handler-context helper until that one is
 * in main.)
 */
import pino from 'pino';
import { apiTable } from '../../../src/irods/api/index.js';
import { AccessRules } from '../../../src/irods/permissions.js';
import type { ApiContext, ApiReply, SessionUser } from '../../../src/irods/server/api.js';
import { IrodsError } from '../../../src/irods/wire/irods-error.js';
import type { PiNode } from '../../../src/irods/wire/pi-values.js';
import type { EmbeddedStore } from '../../../src/store/embedded/store.js';

/** A handler context and what a test needs to end its connection and see its exchanges. */
export interface ObjectsTestContext extends ApiContext {
  /** Runs the cleanups the handlers registered, as a closing connection does. */
  end(): Promise<void>;
  /** The intermediate replies sent with `exchange`, with the answer the client gave. */
  readonly exchanges: Array<{ reply: ApiReply; answer: number }>;
}

const rulesOf = new WeakMap<EmbeddedStore, AccessRules>();

/** A new connection of `name` (a store user) to `store`; `answer` is what the client answers an exchange with. */
export async function connectAs(store: EmbeddedStore, name: string, answer: (reply: ApiReply) => number = () => 99999997): Promise<ObjectsTestContext> {
  const p = await store.getPrincipal(name);
  if (!p || p.kind !== 'user') throw new Error(`no user ${name}`);
  const user: SessionUser = { name, type: p.userType ?? 'rodsuser', zone: store.zone };
  let access = rulesOf.get(store);
  if (!access) rulesOf.set(store, (access = new AccessRules(store.protocolCore().db)));
  const closers: Array<() => void | Promise<void>> = [];
  const exchanges: Array<{ reply: ApiReply; answer: number }> = [];
  return {
    user,
    store,
    access,
    log: pino({ level: 'silent' }),
    exchanges,
    connection: {
      state: new Map(),
      clientSignature: '0'.repeat(32),
      onClose: (fn) => void closers.push(fn),
      async exchange(reply) {
        const a = answer(reply);
        exchanges.push({ reply, answer: a });
        return a;
      },
    },
    async end() {
      for (const fn of closers.splice(0)) await fn();
    },
  };
}

/** A `KeyValPair_PI` as the decoder hands it over (one key: plain strings; more: lists). */
export function keyValPair(kv: Record<string, string> = {}): PiNode {
  const keys = Object.keys(kv);
  if (keys.length === 0) return { ssLen: '0' };
  if (keys.length === 1) return { ssLen: '1', keyWord: keys[0], svalue: kv[keys[0]] };
  return { ssLen: String(keys.length), keyWord: keys, svalue: keys.map((k) => kv[k]) };
}

/** A `DataObjInp_PI`. */
export function dataObjInp(path: string, opts: { flags?: number; kv?: Record<string, string>; oprType?: number; dataSize?: number; createMode?: number } = {}): PiNode {
  return {
    objPath: path,
    createMode: String(opts.createMode ?? 0),
    openFlags: String(opts.flags ?? 0),
    offset: '0',
    dataSize: String(opts.dataSize ?? -1),
    numThreads: '0',
    oprType: String(opts.oprType ?? 0),
    KeyValPair_PI: keyValPair(opts.kv),
  };
}

/** An `OpenedDataObjInp_PI`. */
export function openedInp(l1descInx: number, opts: { len?: number; whence?: number; offset?: number; kv?: Record<string, string> } = {}): PiNode {
  return {
    l1descInx: String(l1descInx),
    len: String(opts.len ?? 0),
    whence: String(opts.whence ?? 0),
    oprType: '0',
    offset: String(opts.offset ?? 0),
    bytesWritten: '0',
    KeyValPair_PI: keyValPair(opts.kv),
  };
}

/** A `CollInpNew_PI`. */
export function collInp(path: string, kv: Record<string, string> = {}): PiNode {
  return { collName: path, flags: '0', oprType: '0', KeyValPair_PI: keyValPair(kv) };
}

/** A `DataObjCopyInp_PI` (source, destination). */
export function copyInp(src: PiNode, dest: PiNode): PiNode {
  return { DataObjInp_PI: [src, dest] };
}

const routes = apiTable();

/**
 * Calls API `api` with `body` (root element `bodyName`) and bytes `bs`. A
 * reply whose bytes lie in memory the server reuses after sending (`sent`)
 * comes back with a copy of them, and `sent` called, as a connection does
 * once it has written them.
 */
export async function call(ctx: ApiContext, api: number, bodyName: string | null, body: PiNode | null, bs: Buffer = Buffer.alloc(0)): Promise<ApiReply> {
  const route = routes.get(api);
  if (!route) throw new Error(`no route for API ${api}`);
  const reply = await route.handle({ api, bodyName, body, bs }, ctx);
  if (!reply.sent) return reply;
  const copy = { ...reply, bs: reply.bs && Buffer.from(reply.bs), sent: undefined };
  reply.sent();
  return copy;
}

/** The iRODS error name a call fails with; throws when it succeeds or fails otherwise. */
export async function irodsError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof IrodsError) return err.codeName;
    throw err;
  }
  throw new Error('expected an iRODS error, but the call succeeded');
}

/** API numbers (iRODS 4.3.5 `apiNumberData.h`). */
export const API = {
  create: 601,
  open: 602,
  unlink: 615,
  rename: 627,
  checksum: 629,
  stat: 633,
  truncate: 652,
  close: 673,
  seek: 674,
  read: 675,
  write: 676,
  rmColl: 679,
  collCreate: 681,
  copy: 696,
} as const;

/** Linux open flags as python-irodsclient 0.8.1 sends them. */
export const O = { RDONLY: 0, WRONLY: 1, RDWR: 2, CREAT: 64, EXCL: 128, TRUNC: 512, APPEND: 1024 } as const;

/** A small client over the handlers: the calls python-irodsclient 0.8.1 makes. */
export class ObjectsClient {
  constructor(readonly ctx: ApiContext) {}

  async open(path: string, flags: number, kv?: Record<string, string>): Promise<number> {
    return (await call(this.ctx, API.open, 'DataObjInp_PI', dataObjInp(path, { flags, kv }))).status!;
  }
  async create(path: string, kv?: Record<string, string>): Promise<number> {
    return (await call(this.ctx, API.create, 'DataObjInp_PI', dataObjInp(path, { createMode: 0o644, kv }))).status!;
  }
  async write(fd: number, data: Buffer | string): Promise<number> {
    const bs = typeof data === 'string' ? Buffer.from(data) : data;
    return (await call(this.ctx, API.write, 'OpenedDataObjInp_PI', openedInp(fd, { len: bs.length }), bs)).status!;
  }
  async read(fd: number, len: number): Promise<Buffer> {
    const reply = await call(this.ctx, API.read, 'OpenedDataObjInp_PI', openedInp(fd, { len }));
    expectStatusMatches(reply);
    return reply.bs ?? Buffer.alloc(0);
  }
  async seek(fd: number, offset: number, whence: number): Promise<number> {
    const reply = await call(this.ctx, API.seek, 'OpenedDataObjInp_PI', openedInp(fd, { offset, whence }));
    return Number(reply.body!.fields.offset);
  }
  async close(fd: number, kv?: Record<string, string>): Promise<void> {
    await call(this.ctx, API.close, 'OpenedDataObjInp_PI', openedInp(fd, { kv }));
  }
  /** Opens for writing (`w`: O_WRONLY|O_CREAT|O_TRUNC), writes, closes. */
  async put(path: string, data: Buffer | string, kv?: Record<string, string>): Promise<void> {
    const fd = await this.open(path, O.WRONLY | O.CREAT | O.TRUNC, kv);
    await this.write(fd, data);
    await this.close(fd, kv);
  }
  /** Opens for reading, reads to the end in `chunk`-byte reads, closes. */
  async get(path: string, chunk = 8 << 20): Promise<Buffer> {
    const fd = await this.open(path, O.RDONLY);
    const parts: Buffer[] = [];
    for (;;) {
      const b = await this.read(fd, chunk);
      if (b.length === 0) break;
      parts.push(b);
    }
    await this.close(fd);
    return Buffer.concat(parts);
  }
  unlink(path: string, kv?: Record<string, string>): Promise<ApiReply> {
    return call(this.ctx, API.unlink, 'DataObjInp_PI', dataObjInp(path, { kv }));
  }
  rename(from: string, to: string, oprType: number): Promise<ApiReply> {
    return call(this.ctx, API.rename, 'DataObjCopyInp_PI', copyInp(dataObjInp(from, { oprType, dataSize: 0 }), dataObjInp(to, { oprType, dataSize: 0 })));
  }
  stat(path: string): Promise<ApiReply> {
    return call(this.ctx, API.stat, 'DataObjInp_PI', dataObjInp(path));
  }
  async checksum(path: string, kv?: Record<string, string>): Promise<string> {
    return String((await call(this.ctx, API.checksum, 'DataObjInp_PI', dataObjInp(path, { kv }))).body!.fields.myStr);
  }
  copy(from: string, to: string, kv?: Record<string, string>): Promise<ApiReply> {
    return call(this.ctx, API.copy, 'DataObjCopyInp_PI', copyInp(dataObjInp(from, { oprType: 10, dataSize: 0 }), dataObjInp(to, { oprType: 9, dataSize: 0, kv })));
  }
  truncate(path: string, size: number): Promise<ApiReply> {
    return call(this.ctx, API.truncate, 'DataObjInp_PI', dataObjInp(path, { dataSize: size }));
  }
  mkdir(path: string, kv?: Record<string, string>): Promise<ApiReply> {
    return call(this.ctx, API.collCreate, 'CollInpNew_PI', collInp(path, kv));
  }
  rmdir(path: string, kv?: Record<string, string>): Promise<ApiReply> {
    return call(this.ctx, API.rmColl, 'CollInpNew_PI', collInp(path, kv));
  }
}

/** A read's status is its byte count. */
function expectStatusMatches(reply: ApiReply): void {
  if (reply.status !== (reply.bs?.length ?? 0)) throw new Error(`read status ${reply.status} but ${reply.bs?.length} bytes`);
}
