/**
 * The open data objects of one connection, by descriptor: numbers as an
 * iRODS server hands them out (`l1descInx`, the lowest free one from 3,
 * iRODS 4.3.5 `allocL1desc`), a bound on how many one connection holds, and
 * the cleanup when the connection ends: every write that was not closed is
 * dropped, so a client that vanishes mid-transfer leaves no object.
 *
 * @module
 */
import type { ConnectionContext } from '../server/api.js';
import { IrodsError } from '../wire/irods-error.js';
import type { OpenObject } from './open-objects.js';
import type { DataObjRequest } from './requests.js';

/** How a descriptor was opened (iRODS 4.3.5 `dataObjInpOut.h`: `CREATE_TYPE`, `OPEN_FOR_READ_TYPE`, `OPEN_FOR_WRITE_TYPE`). */
export const OPEN_TYPE = { create: 1, read: 2, write: 3 } as const;

/** What an open asked for and how it went: what a descriptor's info (API 20000) reports beside the object. */
export interface OpenFacts {
  readonly request: DataObjRequest;
  readonly openType: (typeof OPEN_TYPE)[keyof typeof OPEN_TYPE];
}

/** The first descriptor (0 to 2 are never handed out, as in iRODS). */
export const FIRST_DESCRIPTOR = 3;
/** Descriptors past this are out of range, as on an iRODS server (`NUM_L1_DESC`, iRODS 4.3.5 `objDesc.hpp`). */
export const DESCRIPTOR_LIMIT = 1026;
/** Most objects one connection keeps open at once: each holds a file of the vault. Clients open one at a time. */
export const MAX_OPEN_PER_CONNECTION = 16;

const KEY = Symbol('irods.objects.descriptors');

/** The open objects of one connection. */
export class DescriptorTable {
  private readonly open = new Map<number, OpenObject>();
  private readonly facts = new Map<number, OpenFacts>();

  /** The table of `conn`, made (see {@link DescriptorTable.attach}) on first use if it has none. */
  static of(conn: ConnectionContext): DescriptorTable {
    return (conn.state.get(KEY) as DescriptorTable | undefined) ?? DescriptorTable.attach(conn);
  }

  /**
   * Makes the table of a new connection, with its cleanup. The server calls
   * this as a connection starts: made at its first open instead, a branch of
   * the open path would run once per connection, and a branch first taken
   * after the open path was optimised throws that code away.
   */
  static attach(conn: ConnectionContext): DescriptorTable {
    const created = new DescriptorTable();
    conn.state.set(KEY, created);
    conn.onClose(() => created.releaseAll());
    return created;
  }

  /** How many objects are open. */
  get count(): number {
    return this.open.size;
  }

  /** Throws `SYS_OUT_OF_FILE_DESC` when no more may be opened (checked before the work of an open). */
  assertRoom(): void {
    if (this.open.size >= MAX_OPEN_PER_CONNECTION) {
      throw new IrodsError('SYS_OUT_OF_FILE_DESC', `a connection keeps at most ${MAX_OPEN_PER_CONNECTION} data objects open; close one first`);
    }
  }

  /** Registers `obj`, opened as `facts` say, under the lowest free descriptor; returns it. */
  add(obj: OpenObject, facts: OpenFacts): number {
    this.assertRoom();
    let inx = FIRST_DESCRIPTOR;
    while (this.open.has(inx)) inx++;
    this.open.set(inx, obj);
    this.facts.set(inx, facts);
    return inx;
  }

  /** Puts `obj` under the open descriptor `inx` instead of what it held (which is not released). */
  replace(inx: number, obj: OpenObject): void {
    this.get(inx);
    this.open.set(inx, obj);
  }

  /** How the object under `inx` was opened (the descriptor must be open: see {@link DescriptorTable.get}). */
  factsOf(inx: number): OpenFacts {
    this.get(inx);
    return this.facts.get(inx)!;
  }

  /**
   * The object open under `inx`: `SYS_FILE_DESC_OUT_OF_RANGE` for a number
   * no descriptor can have, `BAD_INPUT_DESC_INDEX` for one not in use
   * (iRODS 4.3.5 `rsDataObjRead` / `rsDataObjLseek`).
   */
  get(inx: number): OpenObject {
    if (inx < FIRST_DESCRIPTOR || inx >= DESCRIPTOR_LIMIT) {
      throw new IrodsError('SYS_FILE_DESC_OUT_OF_RANGE', `descriptor ${inx} is out of range (${FIRST_DESCRIPTOR} to ${DESCRIPTOR_LIMIT - 1})`);
    }
    const obj = this.open.get(inx);
    if (!obj) throw new IrodsError('BAD_INPUT_DESC_INDEX', `descriptor ${inx} is not open`);
    return obj;
  }

  /** The object under `inx`, or undefined when none is (no range check: see {@link DescriptorTable.get}). */
  peek(inx: number): OpenObject | undefined {
    return this.open.get(inx);
  }

  /** Removes and returns the object under `inx` (the descriptor is free again even when its close fails). */
  take(inx: number): OpenObject {
    const obj = this.get(inx);
    this.open.delete(inx);
    this.facts.delete(inx);
    return obj;
  }

  /** Drops every open object: reads are closed, unfinished writes discarded. */
  async releaseAll(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    this.facts.clear();
    await Promise.all(all.map((obj) => obj.release()));
  }
}
