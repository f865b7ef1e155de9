/**
 * Messages between {@link SpecificQueryRunner} and its query processes
 * (`./query-process.ts`), over the child process's IPC channel.
 *
 * @module
 */
import type { IrodsErrorName } from '../wire/error-codes.js';

/** One page of a registered query: rows `offset`… at most `max`. */
export interface QueryJob {
  id: number;
  sql: string;
  args: string[];
  offset: number;
  max: number;
}

/** A page, an iRODS error the query answered, or another failure (a bug: its message). */
export type QueryReply =
  | { id: number; rows: string[][]; more: boolean }
  | { id: number; irods: IrodsErrorName; message: string }
  | { id: number; failed: string };
