/**
 * The bound on a data object's size (TASKFLOW_IRODS_MAX_OBJECT_BYTES; why
 * there is one: `IRODS_MAX_OBJECT_BYTES` in config.ts), answered as an iRODS
 * 4.3.5 server answers its file system refusing a file that large (EFBIG):
 * its unix file driver returns `UNIX_FILE_WRITE_ERR` or
 * `UNIX_FILE_TRUNCATE_ERR` minus the errno, and python-irodsclient 0.8.1
 * knows only the bare codes.
 *
 * @module
 */
import { IrodsError } from '../wire/irods-error.js';

/** What would make the object `size` bytes long. */
export type Growth = 'write' | 'truncate';

/** Throws unless an object may be `size` bytes long under the bound `max`. */
export function requireWithinMax(path: string, size: number, max: number, by: Growth): void {
  if (size <= max) return;
  const code = by === 'write' ? 'UNIX_FILE_WRITE_ERR' : 'UNIX_FILE_TRUNCATE_ERR';
  throw new IrodsError(code, `${path}: ${size} bytes is more than the largest data object this server stores (EFBIG: ${max} bytes, TASKFLOW_IRODS_MAX_OBJECT_BYTES)`);
}
