/**
 * Open flags as they travel in `DataObjInp_PI.openFlags`: the Linux values,
 * whatever the client's platform (python-irodsclient 0.8.1
 * `manager/data_object_manager.py` sends these numbers from every OS).
 *
 * @module
 */

export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
/** The access-mode bits (read-only, write-only or read-write). */
export const O_ACCMODE = 3;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;

/** What an open asks for, decoded from its flags. */
export interface OpenMode {
  read: boolean;
  write: boolean;
  create: boolean;
  exclusive: boolean;
  truncate: boolean;
  append: boolean;
}

/** Decodes `openFlags`. */
export function openMode(flags: number): OpenMode {
  const access = flags & O_ACCMODE;
  return {
    read: access === O_RDONLY || access === O_RDWR,
    write: access === O_WRONLY || access === O_RDWR,
    create: (flags & O_CREAT) !== 0,
    exclusive: (flags & O_EXCL) !== 0,
    truncate: (flags & O_TRUNC) !== 0,
    append: (flags & O_APPEND) !== 0,
  };
}
