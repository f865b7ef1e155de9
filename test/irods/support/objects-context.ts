/**
 * Driving the object and collection API handlers directly, without the
 * wire: request bodies shaped as python-irodsclient 0.8.1 sends them
 * (`message/__init__.py` `FileOpenRequest`, `OpenedDataObjRequest`,
 * `CollectionRequest`, `ObjCopyRequest`), a small client making its calls,
 * and the users most of these tests start from.
 */
import { afterEach, beforeEach } from 'vitest';
import type { ApiReply } from '../../../src/irods/server/api.js';
import { int, type PiNode } from '../../../src/irods/wire/pi-values.js';
import { decodePi } from '../../../src/irods/wire/xml.js';
import type { EmbeddedStore } from '../../../src/store/embedded/store.js';
import { tempStore, type TempStore } from '../../support/store-helpers.js';
import { call, handlerContext, type TestContext } from './handler-context.js';

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
  constructor(readonly ctx: TestContext) {}

  async open(path: string, flags: number, kv?: Record<string, string>): Promise<number> {
    return (await call(API.open, this.ctx, 'DataObjInp_PI', dataObjInp(path, { flags, kv }))).status!;
  }
  async create(path: string, kv?: Record<string, string>): Promise<number> {
    return (await call(API.create, this.ctx, 'DataObjInp_PI', dataObjInp(path, { createMode: 0o644, kv }))).status!;
  }
  async write(fd: number, data: Buffer | string): Promise<number> {
    const bs = typeof data === 'string' ? Buffer.from(data) : data;
    return (await call(API.write, this.ctx, 'OpenedDataObjInp_PI', openedInp(fd, { len: bs.length }), bs)).status!;
  }
  async read(fd: number, len: number): Promise<Buffer> {
    const reply = await call(API.read, this.ctx, 'OpenedDataObjInp_PI', openedInp(fd, { len }));
    expectStatusMatches(reply);
    return reply.bs ?? Buffer.alloc(0);
  }
  async seek(fd: number, offset: number, whence: number): Promise<number> {
    const reply = await call(API.seek, this.ctx, 'OpenedDataObjInp_PI', openedInp(fd, { offset, whence }));
    // a seek answers its fileLseekOut_PI packed
    const { name, node } = decodePi(reply.packed!);
    if (name !== 'fileLseekOut_PI') throw new Error(`a seek answered ${name}`);
    return int(node, 'offset');
  }
  async close(fd: number, kv?: Record<string, string>): Promise<void> {
    await call(API.close, this.ctx, 'OpenedDataObjInp_PI', openedInp(fd, { kv }));
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
    return call(API.unlink, this.ctx, 'DataObjInp_PI', dataObjInp(path, { kv }));
  }
  rename(from: string, to: string, oprType: number): Promise<ApiReply> {
    return call(API.rename, this.ctx, 'DataObjCopyInp_PI', copyInp(dataObjInp(from, { oprType, dataSize: 0 }), dataObjInp(to, { oprType, dataSize: 0 })));
  }
  stat(path: string): Promise<ApiReply> {
    return call(API.stat, this.ctx, 'DataObjInp_PI', dataObjInp(path));
  }
  async checksum(path: string, kv?: Record<string, string>): Promise<string> {
    return String((await call(API.checksum, this.ctx, 'DataObjInp_PI', dataObjInp(path, { kv }))).body!.fields.myStr);
  }
  copy(from: string, to: string, kv?: Record<string, string>): Promise<ApiReply> {
    return call(API.copy, this.ctx, 'DataObjCopyInp_PI', copyInp(dataObjInp(from, { oprType: 10, dataSize: 0 }), dataObjInp(to, { oprType: 9, dataSize: 0, kv })));
  }
  truncate(path: string, size: number): Promise<ApiReply> {
    return call(API.truncate, this.ctx, 'DataObjInp_PI', dataObjInp(path, { dataSize: size }));
  }
  mkdir(path: string, kv?: Record<string, string>): Promise<ApiReply> {
    return call(API.collCreate, this.ctx, 'CollInpNew_PI', collInp(path, kv));
  }
  rmdir(path: string, kv?: Record<string, string>): Promise<ApiReply> {
    return call(API.rmColl, this.ctx, 'CollInpNew_PI', collInp(path, kv));
  }
}

/** A read's status is its byte count. */
function expectStatusMatches(reply: ApiReply): void {
  if (reply.status !== (reply.bs?.length ?? 0)) throw new Error(`read status ${reply.status} but ${reply.bs?.length} bytes`);
}

/** What {@link usersPerTest} gives each test. */
export interface UsersOfTest {
  t: TempStore;
  store: EmbeddedStore;
  alice: ObjectsClient;
  bob: ObjectsClient;
  rods: ObjectsClient;
  /** The test's connections in the order opened: alice's, bob's, rods', then those of {@link UsersOfTest.client}. */
  contexts: TestContext[];
  /** A client over a new connection of `name`; `answer` is what it answers an exchange with. */
  client(name: string, answer?: (reply: ApiReply) => number): Promise<ObjectsClient>;
}

/**
 * Gives each test of the calling file a fresh store with the rodsusers alice
 * and bob, each owning their home, and a client each for alice, bob and
 * rods: `opened` receives them before the test (and may add to the store).
 * After the test every connection is ended and the store removed.
 */
export function usersPerTest(opened: (u: UsersOfTest) => void | Promise<void>): void {
  let t: TempStore | undefined;
  const contexts: TestContext[] = [];
  beforeEach(async () => {
    const temp = (t = tempStore());
    const store = temp.store;
    await store.createPrincipal('alice', 'rodsuser');
    await store.createPrincipal('bob', 'rodsuser');
    await store.createCollection(`/${store.zone}/home/alice`, { parents: true, owner: 'alice' });
    await store.createCollection(`/${store.zone}/home/bob`, { owner: 'bob' });
    const client = async (name: string, answer?: (reply: ApiReply) => number): Promise<ObjectsClient> => {
      const ctx = await handlerContext(store, name, { exchangeAnswer: answer });
      contexts.push(ctx);
      return new ObjectsClient(ctx);
    };
    await opened({ t: temp, store, alice: await client('alice'), bob: await client('bob'), rods: await client('rods'), contexts, client });
  });
  afterEach(async () => {
    for (const ctx of contexts.splice(0)) await ctx.end();
    await t?.cleanup();
    t = undefined;
  });
}
