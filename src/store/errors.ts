/**
 * Typed errors of the data store. Each names the path (or user/group name) at
 * fault, so a caller can tell the user exactly what to fix.
 *
 * @module
 */

/** Machine-readable error codes, one per error class. */
export type StoreErrorCode =
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'INVALID_PATH'
  | 'NOT_EMPTY'
  | 'CHECKSUM_MISMATCH'
  | 'STORE_UNAVAILABLE'
  | 'NOT_ALLOWED';

/** Base class of every store error. */
export class StoreError extends Error {
  override name = 'StoreError';
  constructor(
    /** What went wrong, as a stable code. */
    readonly code: StoreErrorCode,
    /** The logical path (or user/group name, or local file) at fault. */
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** What was looked for, used in {@link NotFoundError} messages. */
export type StoreThing = 'path' | 'collection' | 'object' | 'user' | 'group' | 'principal' | 'member' | 'metadata' | 'file' | 'specific query' | 'resource';

/** Nothing (of the expected kind) at the path, or no such user/group. */
export class NotFoundError extends StoreError {
  override name = 'NotFoundError';
  constructor(path: string, readonly what: StoreThing = 'path', detail?: string) {
    super('NOT_FOUND', path, `${what} not found: ${path}${detail ? ` (${detail})` : ''}`);
  }
}

/** Something already exists where a new entry, user or group was to be created. */
export class AlreadyExistsError extends StoreError {
  override name = 'AlreadyExistsError';
  constructor(path: string, readonly what: StoreThing = 'path', detail?: string) {
    super('ALREADY_EXISTS', path, `${what} already exists: ${path}${detail ? ` (${detail})` : ''}`);
  }
}

/** A logical path breaking the rules of `paths.ts` (or a bad user/group name). */
export class InvalidPathError extends StoreError {
  override name = 'InvalidPathError';
  constructor(path: string, readonly reason: string) {
    super('INVALID_PATH', path, `invalid path ${JSON.stringify(path)}: ${reason}`);
  }
}

/** A collection with children was to be removed without `recursive`. */
export class NotEmptyError extends StoreError {
  override name = 'NotEmptyError';
  constructor(path: string) {
    super('NOT_EMPTY', path, `collection not empty: ${path} (remove it recursively)`);
  }
}

/** An object's bytes no longer match the MD5 kept in the catalog. */
export class ChecksumMismatchError extends StoreError {
  override name = 'ChecksumMismatchError';
  constructor(
    path: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super('CHECKSUM_MISMATCH', path, `checksum mismatch for ${path}: catalog ${expected}, bytes ${actual}`);
  }
}

/** The store cannot be opened or stayed locked by another process too long. */
export class StoreUnavailableError extends StoreError {
  override name = 'StoreUnavailableError';
  constructor(path: string, detail: string) {
    super('STORE_UNAVAILABLE', path, `store unavailable at ${path}: ${detail}`);
  }
}

/**
 * An operation the store refuses on principle: removing the zone, home or
 * trash collections or the admin user, moving a collection into itself.
 */
export class NotAllowedError extends StoreError {
  override name = 'NotAllowedError';
  constructor(path: string, reason: string) {
    super('NOT_ALLOWED', path, `not allowed on ${path}: ${reason}`);
  }
}
