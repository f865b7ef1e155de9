/**
 * Reading files of the server's own file system for registration
 * (`PHY_PATH_REG_AN`), safely: only regular files and folders are read;
 * never anything inside the store's data folder (its catalog holds the
 * protocol passwords, and the folder the service's secret) nor the kernel's
 * pseudo file systems (`/proc/<pid>/environ` holds the process's
 * environment, and opening a device can act on it). Symbolic links are
 * followed and judged by where they lead, before anything is opened; a file
 * is opened only after its real path is judged, without blocking (a FIFO
 * swapped in would hang the open), and refused when what was opened is not
 * the file that was judged.
 *
 * Each refusal is the code an iRODS 4.3.5 server answers for it, or the
 * nearest one python-irodsclient 0.8.1 knows (it fails on codes it lacks):
 * iRODS stats a file before registering it (`UNIX_FILE_STAT_ERR`, which it
 * adds the errno to; the client knows only the bare code), then opens it
 * (`UNIX_FILE_OPEN_ERR`) or the folder (`UNIX_FILE_OPENDIR_ERR`); a path
 * iRODS will not register is `SYS_INVALID_FILE_PATH` (`CANT_REG_IN_VAULT_FILE`
 * for a path in a vault is unknown to the client).
 *
 * @module
 */
import { constants, type Dirent, type Stats } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { isInside } from '../../store/paths.js';
import type { IrodsErrorName } from '../wire/error-codes.js';
import { IrodsError } from '../wire/irods-error.js';

/** Pseudo file systems no registration reads: process state, kernel state, devices. */
const KERNEL_ROOTS = ['/proc', '/sys', '/dev'] as const;

/** Where registration must not read, as real paths. */
export class ForbiddenRoots {
  private constructor(private readonly roots: readonly string[]) {}

  /** The store's data folder (as its real path) and the kernel's pseudo file systems. */
  static async of(dataDir: string): Promise<ForbiddenRoots> {
    return new ForbiddenRoots([await fsp.realpath(dataDir), ...KERNEL_ROOTS]);
  }

  /** Throws `SYS_INVALID_FILE_PATH` when the real path `real` (given as `shown`) is at or inside a forbidden root. */
  check(real: string, shown: string): void {
    for (const root of this.roots) {
      if (real === root || isInside(real, root)) {
        const what = (KERNEL_ROOTS as readonly string[]).includes(root) ? `the pseudo file system ${root}` : "the store's data folder";
        throw new IrodsError('SYS_INVALID_FILE_PATH', `${shown} is in ${what}, which is never registered`);
      }
    }
  }

  /** Throws `SYS_INVALID_FILE_PATH` when a forbidden root lies inside the folder `real`: registering it would read that root. */
  checkNoneInside(real: string, shown: string): void {
    for (const root of this.roots) {
      if (isInside(root, real)) throw new IrodsError('SYS_INVALID_FILE_PATH', `${shown} holds ${root}, which is never registered`);
    }
  }
}

/** The iRODS answer for a failed file system call on `path`. */
function fileError(code: IrodsErrorName, what: string, path: string, err: unknown): IrodsError {
  const errno = (err as NodeJS.ErrnoException).code ?? 'error';
  return new IrodsError(code, `cannot ${what} ${path} on the server: ${errno}`);
}

/**
 * Checks a physical path as given: absolute, no `..` segment (iRODS 4.3.5
 * `isValidFilePath` refuses `/../` and a trailing `/..`), no NUL.
 */
export function checkPhysicalPath(path: string): void {
  if (path === '') throw new IrodsError('SYS_INVALID_FILE_PATH', 'no physical path given (filePath keyword)');
  if (!isAbsolute(path) || path.includes('\0') || path.split('/').includes('..')) {
    throw new IrodsError('SYS_INVALID_FILE_PATH', `${JSON.stringify(path.slice(0, 200))} is not an absolute physical path without ..`);
  }
}

/** The real path and stat of `path`, following links; iRODS's stat failure when it is not there or not reachable. */
async function resolve(path: string): Promise<{ real: string; st: Stats }> {
  try {
    const real = await fsp.realpath(path);
    return { real, st: await fsp.stat(real) };
  } catch (err) {
    throw fileError('UNIX_FILE_STAT_ERR', 'stat', path, err);
  }
}

/** An open regular file of the server, checked as the module comment says; the caller closes `handle`. */
export interface ServerFile {
  handle: fsp.FileHandle;
  size: number;
}

/** Opens the regular file at `path` for reading, after checking where it really is. */
export async function openServerFile(path: string, forbidden: ForbiddenRoots): Promise<ServerFile> {
  const { real, st } = await resolve(path);
  forbidden.check(real, path);
  if (!st.isFile()) throw new IrodsError('SYS_PATH_IS_NOT_A_FILE', `${path} is not a regular file`);
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    throw fileError('UNIX_FILE_OPEN_ERR', 'open', path, err);
  }
  try {
    const opened = await handle.stat();
    if (!opened.isFile() || opened.dev !== st.dev || opened.ino !== st.ino) {
      throw new IrodsError('UNIX_FILE_OPEN_ERR', `${path} changed while it was being opened; nothing was registered`);
    }
    return { handle, size: opened.size };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** One item of a server folder: a folder or a regular file, by its path relative to the root (`/`-separated). */
export interface TreeItem {
  kind: 'dir' | 'file';
  rel: string;
  /** The path to open (through links as found). */
  path: string;
}

/**
 * The folders and regular files below the server folder `root` (not `root`
 * itself), folders before their contents; links followed and judged by
 * their targets; other kinds of file (sockets, FIFOs, devices) left out, as
 * iRODS's folder registration leaves them. A link back into a folder being
 * walked is refused (`SYS_INVALID_FILE_PATH`): it would never end.
 */
export async function* serverTree(root: string, forbidden: ForbiddenRoots): AsyncGenerator<TreeItem> {
  const { real, st } = await resolve(root);
  forbidden.check(real, root);
  if (!st.isDirectory()) throw new IrodsError('UNIX_FILE_OPENDIR_ERR', `cannot open ${root} on the server as a folder: it is not one`);
  forbidden.checkNoneInside(real, root);
  yield* walk(root, '', new Set([real]), forbidden);
}

async function* walk(dir: string, rel: string, ancestors: Set<string>, forbidden: ForbiddenRoots): AsyncGenerator<TreeItem> {
  let entries: Dirent[];
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw fileError('UNIX_FILE_OPENDIR_ERR', 'open the folder', dir, err);
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
    let isDir = entry.isDirectory();
    let isFile = entry.isFile();
    let real = path;
    if (entry.isSymbolicLink() || isDir) {
      const resolved = await resolve(path);
      real = resolved.real;
      isDir = resolved.st.isDirectory();
      isFile = resolved.st.isFile();
    }
    if (!isDir && !isFile) continue;
    if (isFile) {
      yield { kind: 'file', rel: childRel, path };
      continue;
    }
    forbidden.check(real, path);
    forbidden.checkNoneInside(real, path);
    if (ancestors.has(real)) throw new IrodsError('SYS_INVALID_FILE_PATH', `${path} leads back to a folder it is inside (${real})`);
    yield { kind: 'dir', rel: childRel, path };
    ancestors.add(real);
    yield* walk(path, childRel, ancestors, forbidden);
    ancestors.delete(real);
  }
}
