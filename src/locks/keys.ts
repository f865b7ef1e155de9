/**
 * The one place for how lock leases are named and whom a token identifies.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** The lease key of a project, in Redis and in the embedded lease table alike. */
export function lockKey(projectId: string): string {
  return `taskflow:lock:${projectId}`;
}

/**
 * The lane (see `FlowDefinition.lane`) of a project's landing zone
 * creations: locked as a project is (its lease is `lockKey` of it), a
 * project's own lock left alone.
 */
export function zoneCreationLane(projectId: string): string {
  return `${projectId}/zone-creation`;
}

/**
 * The lease key of a service process's owner lease: held while the process
 * lives, so a peer can tell whether the runs it recorded still have an owner.
 */
export function ownerKey(ownerId: string): string {
  return `taskflow:owner:${ownerId}`;
}

/**
 * A fresh owner id for one start of a service process: host and pid for the
 * operator, and random bits, because a pid is reused and a host has many.
 */
export function newOwnerId(): string {
  return `${hostname()}/${process.pid}/${randomUUID().replace(/-/g, '').slice(0, 16)}`;
}

/** The embedded lease database inside the data dir. */
export function lockDatabasePath(dataDir: string): string {
  return join(dataDir, 'locks.sqlite');
}

/** Who holds a lease, kept next to it so an operator can find the holder. */
export interface LeaseHolder {
  pid: number;
  host: string;
}

/** This process's token prefix, asked of the OS once rather than per lease. */
let selfPrefix: string | undefined;

/** This process as a lease holder. */
export function thisHolder(): LeaseHolder {
  return { pid: process.pid, host: hostname() };
}

/**
 * A fresh lease token: random (only its holder can renew or release the
 * lease: a v4 UUID's 122 random bits as 32 hex digits, from Node's pooled
 * entropy, far cheaper per call than `randomBytes`), prefixed with the holder
 * so a token seen in Redis says who holds it.
 */
export function newLeaseToken(holder?: LeaseHolder): string {
  const prefix = holder ? `${holder.host}/${holder.pid}/` : (selfPrefix ??= `${hostname()}/${process.pid}/`);
  return prefix + randomUUID().replace(/-/g, '');
}
