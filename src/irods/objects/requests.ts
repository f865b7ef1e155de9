/**
 * The request structures of the object and collection APIs as typed values,
 * from the schema-less bodies the connection decodes. Field names as in
 * iRODS 4.3.5 `rodsPackInstruct.h` (`DataObjInp_PI`, `OpenedDataObjInp_PI`,
 * `CollInpNew_PI`) and `dataObjCopy.h` (`DataObjCopyInp_PI`: two
 * `DataObjInp_PI`, source then destination).
 *
 * @module
 */
import type { ApiRequest } from '../server/api.js';
import { int, keyValues, many, text, type PiNode } from '../wire/pi-values.js';
import { IrodsError } from '../wire/irods-error.js';

/** A `DataObjInp_PI`. */
export interface DataObjRequest {
  objPath: string;
  createMode: number;
  openFlags: number;
  offset: number;
  dataSize: number;
  numThreads: number;
  oprType: number;
  keywords: Map<string, string>;
}

/** An `OpenedDataObjInp_PI`. */
export interface OpenedDataObjRequest {
  l1descInx: number;
  len: number;
  whence: number;
  oprType: number;
  offset: number;
  bytesWritten: number;
  keywords: Map<string, string>;
}

/** A `CollInpNew_PI`. */
export interface CollRequest {
  collName: string;
  flags: number;
  oprType: number;
  keywords: Map<string, string>;
}

/** Keywords of `KeyValPair_PI` these APIs read (iRODS 4.3.5 `rodsKeyWdDef.h`). */
export const KW = {
  force: 'forceFlag',
  recursive: 'recursiveOpr',
  regChksum: 'regChksum',
  verifyChksum: 'verifyChksum',
  forceChksum: 'forceChksum',
  chksum: 'chksum',
  admin: 'irodsAdmin',
  rmTrash: 'irodsRmTrash',
  adminRmTrash: 'irodsAdminRmTrash',
  destResc: 'destRescName',
  rescName: 'rescName',
  backupResc: 'backupRescName',
  /** The client's default resource, for a new object when it names no `destRescName` (4.2.12 `rodsKeyWdDef.h`; iCommands send their environment's `irods_default_resource`). */
  defResc: 'defRescName',
  /** A put's bytes travel in its own request (4.2.12 `rodsKeyWdDef.h` `DATA_INCLUDED_KW`; see `put.ts`). */
  dataIncluded: 'dataIncluded',
  /** A put's size is not checked at its close (4.2.12 `rodsKeyWdDef.h` `NO_CHK_COPY_LEN_KW`). */
  noChkCopyLen: 'noChkCopyLen',
  /** A parallel transfer's thread count (python-irodsclient 0.9 and later send it on each open of one). */
  numThreads: 'numThreads',
  /** The token that joins an open to another's write (`shared-writes.ts`). */
  replicaToken: 'replicaToken',
} as const;

/** The body of `req`, which must be a `name` structure. */
function bodyOf(req: ApiRequest, name: string): PiNode {
  if (req.body === null) throw new IrodsError('USER__NULL_INPUT_ERR', `API ${req.api} needs a ${name} body`);
  if (req.bodyName !== name) throw new IrodsError('USER_PACKSTRUCT_INPUT_ERR', `API ${req.api} takes ${name}, not ${req.bodyName}`);
  return req.body;
}

function dataObjInpOf(node: PiNode): DataObjRequest {
  return {
    objPath: text(node, 'objPath'),
    createMode: int(node, 'createMode'),
    openFlags: int(node, 'openFlags'),
    offset: int(node, 'offset'),
    dataSize: int(node, 'dataSize'),
    numThreads: int(node, 'numThreads'),
    oprType: int(node, 'oprType'),
    keywords: keyValues(node),
  };
}

/** A `DataObjInp_PI` request body. */
export function dataObjInp(req: ApiRequest): DataObjRequest {
  return dataObjInpOf(bodyOf(req, 'DataObjInp_PI'));
}

/** A `DataObjCopyInp_PI` request body: source and destination. */
export function dataObjCopyInp(req: ApiRequest): { src: DataObjRequest; dest: DataObjRequest } {
  const parts = many(bodyOf(req, 'DataObjCopyInp_PI'), 'DataObjInp_PI');
  if (parts.length !== 2 || parts.some((p) => typeof p !== 'object' || Array.isArray(p))) {
    throw new IrodsError('USER_PACKSTRUCT_INPUT_ERR', 'DataObjCopyInp_PI needs two DataObjInp_PI, source and destination');
  }
  return { src: dataObjInpOf(parts[0] as PiNode), dest: dataObjInpOf(parts[1] as PiNode) };
}

/**
 * The typed requests of decoded bodies, which the connection reuses (a body
 * byte for byte the same as the last one of its API is decoded once): a
 * put's seeks, writes and closes are read once too. Frozen, as the bodies
 * are, so that every one has the same hidden class.
 */
const openedOf = new WeakMap<PiNode, OpenedDataObjRequest>();

/** An `OpenedDataObjInp_PI` request body. */
export function openedDataObjInp(req: ApiRequest): OpenedDataObjRequest {
  const node = bodyOf(req, 'OpenedDataObjInp_PI');
  let typed = openedOf.get(node);
  if (!typed) openedOf.set(node, (typed = Object.freeze(openedDataObjInpOf(node))));
  return typed;
}

function openedDataObjInpOf(node: PiNode): OpenedDataObjRequest {
  return {
    l1descInx: int(node, 'l1descInx'),
    len: int(node, 'len'),
    whence: int(node, 'whence'),
    oprType: int(node, 'oprType'),
    offset: int(node, 'offset'),
    bytesWritten: int(node, 'bytesWritten'),
    keywords: keyValues(node),
  };
}

/** The number of an `INT_PI` request body (`myInt`: 4.2.12 `rodsPackInstruct.h`), as OPR_COMPLETE_AN 626 sends it. */
export function intInp(req: ApiRequest): number {
  return int(bodyOf(req, 'INT_PI'), 'myInt');
}

/**
 * The request of the server's own read, write or close of descriptor
 * `l1descInx` (a put's or get's, `put.ts`, `get.ts`), as iRODS 4.2.12
 * `rsDataObjPut` / `rsDataObjGet` make theirs: every other field zero.
 */
export function descriptorRequest(l1descInx: number, len = 0): OpenedDataObjRequest {
  return { l1descInx, len, whence: 0, oprType: 0, offset: 0, bytesWritten: 0, keywords: new Map() };
}

/** A `CollInpNew_PI` request body. */
export function collInp(req: ApiRequest): CollRequest {
  const node = bodyOf(req, 'CollInpNew_PI');
  return { collName: text(node, 'collName'), flags: int(node, 'flags'), oprType: int(node, 'oprType'), keywords: keyValues(node) };
}
