/**
 * The bound on a data object's size (TASKFLOW_IRODS_MAX_OBJECT_BYTES): a
 * write or truncate past it is answered as a file system's EFBIG is by
 * iRODS (`UNIX_FILE_WRITE_ERR`, `UNIX_FILE_TRUNCATE_ERR`), a write refused
 * so fails the close too (nothing of it is stored), and up to the bound
 * everything goes, in memory and in a temp file alike.
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EmbeddedStore } from '../../src/store/embedded/store.js';
import type { TempStore } from '../support/store-helpers.js';
import { handlerContext, irodsError } from './support/handler-context.js';
import { O, ObjectsClient, usersPerTest } from './support/objects-context.js';

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');

let t: TempStore;
let s: EmbeddedStore;
let home: string;
usersPerTest((u) => {
  ({ t, store: s } = u);
  home = `/${s.zone}/home/alice`;
});

/** Alice over a connection of a server whose objects may have at most `max` bytes. */
async function aliceWithin(max: number): Promise<ObjectsClient> {
  const ctx = await handlerContext(s, 'alice', { maxObjectBytes: max });
  // ended with the test's store: its open objects are dropped then
  return new ObjectsClient(ctx);
}

const temps = () => readdirSync(join(t.dataDir, 'vault', 'tmp'));

describe('the largest data object', () => {
  // a bound above and one below the 1 MiB an object stays in memory
  it.each([2 * 1024 * 1024, 1000])('refuses a write past %i bytes, and the close stores nothing of it', async (max) => {
    const alice = await aliceWithin(max);
    const full = Buffer.alloc(max, 7);
    await alice.put(`${home}/full`, full);
    expect((await s.stat(`${home}/full`))?.checksum).toBe(md5(full));

    const fd = await alice.open(`${home}/over`, O.WRONLY | O.CREAT | O.TRUNC);
    expect(await alice.write(fd, full.subarray(0, max - 1))).toBe(max - 1);
    expect(await irodsError(alice.write(fd, 'ab'))).toBe('UNIX_FILE_WRITE_ERR');
    expect(await irodsError(alice.close(fd))).toBe('UNIX_FILE_WRITE_ERR');
    expect(await s.stat(`${home}/over`)).toBeNull();

    // a seek past the end is no write; a byte written there is
    const again = await alice.open(`${home}/full`, O.RDWR);
    expect(await alice.seek(again, 10 * max, 0)).toBe(10 * max);
    expect(await irodsError(alice.write(again, 'x'))).toBe('UNIX_FILE_WRITE_ERR');
    expect(await irodsError(alice.close(again))).toBe('UNIX_FILE_WRITE_ERR');
    expect((await s.stat(`${home}/full`))?.checksum).toBe(md5(full));
    expect(temps()).toEqual([]);
  });

  it('refuses a truncate past it, leaving the object as it was; up to it the truncate extends with zeros', async () => {
    const max = 3 * 1024 * 1024;
    const alice = await aliceWithin(max);
    await alice.put(`${home}/t`, Buffer.alloc(2 * 1024 * 1024, 1));
    expect(await irodsError(alice.truncate(`${home}/t`, max + 1))).toBe('UNIX_FILE_TRUNCATE_ERR');
    expect(temps()).toEqual([]);
    await alice.truncate(`${home}/t`, max);
    expect((await s.stat(`${home}/t`))?.checksum).toBe(md5(Buffer.concat([Buffer.alloc(2 * 1024 * 1024, 1), Buffer.alloc(1024 * 1024)])));
  });
});
