/**
 * The contract between the connection (framing, session, authentication)
 * and the API handlers: what a handler gets for one request and what it
 * answers. Handlers live in `../api/`, one module per iRODS concept, each
 * exporting its {@link ApiRoute}s; `../api/index.ts` collects them.
 *
 * @module
 */
import type { Logger } from 'pino';
import type { EmbeddedStore } from '../../store/embedded/store.js';
import type { UserType } from '../../store/types.js';
import type { AccessRules } from '../permissions.js';
import type { SpecificQueries } from '../specific-query/runner.js';
import type { PiMessage, PiNode } from '../wire/pi-values.js';
import type { ApiInputs } from './api-inputs.js';

/** The user a connection authenticated as. */
export interface SessionUser {
  name: string;
  type: UserType;
  /** The zone the user belongs to (always the store's zone). */
  zone: string;
}

/** One API request as the connection decoded it. */
export interface ApiRequest {
  /** The API number (`intInfo` of the request header). */
  api: number;
  /** The body's root element name, e.g. `DataObjInp_PI`; null for an empty body. */
  bodyName: string | null;
  /** The body's root element content, decoded schema-less (see `pi-values.ts`); null for an empty body. */
  body: PiNode | null;
  /** The raw bytes that came after the body (a write's data); empty when none. */
  bs: Buffer;
  /**
   * The same bytes as they arrived, in pieces, uncopied (the connection
   * joins them into {@link ApiRequest.bs} only when a handler reads that):
   * for handlers that copy the bytes elsewhere anyway. Absent: `bs` is all.
   */
  bsParts?: readonly Buffer[];
}

/** One reply. */
export interface ApiReply {
  /** The reply header's `intInfo`: 0, or a descriptor, a byte count. Errors are thrown as `IrodsError`. */
  status?: number;
  /** The reply body, packed by the connection. */
  body?: PiMessage;
  /**
   * The body already packed, instead of {@link ApiReply.body}: for a reply
   * of fixed shape a handler packs once and reuses. Only for bodies without
   * text (numbers alone), whose packing does not depend on the client. Its
   * bytes never change once sent: the connection keeps the framed reply
   * made from them for the next time the same buffer is sent.
   */
  packed?: Buffer;
  /** Raw bytes after the body (a read's data). */
  bs?: Buffer;
  /**
   * Called once, when the reply's bytes are handed to the operating system
   * or the connection ended before: a handler whose `bs` lies in memory it
   * reuses takes it back here.
   */
  sent?: () => void;
}

/** What a connection offers its handlers beyond the request. */
export interface ConnectionContext {
  /**
   * State a handler keeps per connection (open data objects, a GenQuery's
   * paging cursor), under a key of its own module.
   */
  readonly state: Map<symbol, unknown>;
  /**
   * Hex of the first 16 bytes of the authentication challenge: the key a
   * client obfuscates a new password with (python-irodsclient 0.8.1
   * `Connection.client_signature`, `password_obfuscation.obfuscate_new_password`).
   */
  readonly clientSignature: string;
  /**
   * Registers cleanup for when the connection ends, cleanly or not (a half
   * written object is discarded there). Runs once, in registration order.
   */
  onClose(fn: () => void | Promise<void>): void;
  /**
   * Sends an intermediate reply (e.g. a collection removal's progress, `status`
   * 99999996) and waits for the client's answer: the 4-byte big-endian integer
   * it sends back (99999997 to go on). iRODS 4.3.5 `rsRmColl` / `sendAndRecvBranchMsg`.
   */
  exchange(reply: ApiReply): Promise<number>;
}

/** Everything a handler may use for one request. */
export interface ApiContext {
  /** Who asks. Handlers run only after authentication. */
  readonly user: SessionUser;
  /** The embedded store; handlers check permissions themselves with {@link ApiContext.access}. */
  readonly store: EmbeddedStore;
  /** Who may do what: every handler asks before it reads or changes anything. */
  readonly access: AccessRules;
  readonly connection: ConnectionContext;
  readonly log: Logger;
  /** Where specific queries run: off the server's thread, within the time limit. */
  readonly specificQueries: SpecificQueries;
  /** Largest size a data object may reach through writes and truncates (TASKFLOW_IRODS_MAX_OBJECT_BYTES). */
  readonly maxObjectBytes: number;
}

/** One API a handler module serves. */
export interface ApiRoute {
  /** The API number, iRODS 4.3.5 `apiNumberData.h`. */
  api: number;
  /** The iRODS constant name, e.g. `DATA_OBJ_OPEN_AN`, for logs and errors. */
  name: string;
  /** What a request brings; when not given, api-inputs.ts's `STRUCT_ONLY`: a structure and no byte stream. */
  inputs?: ApiInputs;
  /**
   * Answers a request: at once, or with a promise when it must wait (the
   * connection then waits for it; an answer at once saves it a promise hop
   * per request). Throws, or rejects, with an `IrodsError` to refuse.
   */
  handle(req: ApiRequest, ctx: ApiContext): ApiReply | Promise<ApiReply>;
}
