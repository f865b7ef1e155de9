/**
 * Counting a zone's files for TASKFLOW_ZONE_FILE_LIMIT: companions are not
 * counted, the count stops past the limit, and a zone that is missing or not
 * a collection counts none, all from the listing alone (no stat first).
 */
import { describe, expect, it } from 'vitest';
import type { FlowDeps, FlowInput } from '../../src/flows/types.js';
import { zoneFilesUpTo } from '../../src/service/zone-limits.js';
import { NotFoundError, StoreError } from '../../src/store/errors.js';
import type { PageOptions } from '../../src/store/types.js';
import { makeTempDir, removeDir, testConfig } from '../support/service-harness.js';

const input: FlowInput = {
  projectUuid: 'a0a0a0a0-0000-4000-8000-000000000001',
  flowName: 'landing_zone_move',
  flowData: { zone_title: '20261205_zone', zone_uuid: 'zone-1', assay_path_zone: 'study_1/assay_1', assay_path_samples: 'study_1/assay_1', user_name: 'zone_user', zone_config: '' },
  targets: ['irods'],
  requestMode: 'async',
  forceFail: false,
  timelineUuid: undefined,
  sodarUrl: 'http://127.0.0.1:1',
};

/** Deps whose store answers listings from `list` and counts every call by name. */
function depsWith(list: (path: string, opts: PageOptions & { limit: number }) => string[]): { deps: FlowDeps; calls: string[]; paths: string[] } {
  const calls: string[] = [];
  const paths: string[] = [];
  const store = new Proxy(
    { zone: 'omicsZone' },
    {
      get(target, prop) {
        if (prop === 'zone') return target.zone;
        if (prop === 'then') return undefined;
        return async (path: string, opts: PageOptions & { limit: number }) => {
          calls.push(String(prop));
          if (prop !== 'listObjectPaths') throw new Error(`unexpected store call ${String(prop)}`);
          paths.push(path);
          return list(path, opts);
        };
      },
    },
  );
  const dir = makeTempDir('taskflow-zone-limits-');
  try {
    return { deps: { store, site: undefined, config: testConfig(dir) } as unknown as FlowDeps, calls, paths };
  } finally {
    removeDir(dir);
  }
}

describe('zoneFilesUpTo', () => {
  it('counts data files, not checksum companions, from the listing alone', async () => {
    const { deps, calls, paths } = depsWith(() => ['a.txt', 'a.txt.md5', 'sub/b.txt', 'sub/b.txt.md5']);
    expect(await zoneFilesUpTo(input, deps, 10)).toBe(2);
    expect(calls).toEqual(['listObjectPaths']);
    expect(paths[0]).toMatch(/\/landing_zones\/zone_user\/study_1\/assay_1\/20261205_zone$/);
  });

  it('stops once the count is past the limit', async () => {
    let pagesRead = 0;
    const { deps } = depsWith((_p, o) => {
      pagesRead++;
      return Array.from({ length: o.limit }, (_, i) => `${pagesRead}-${String(i).padStart(6, '0')}.txt`);
    });
    expect(await zoneFilesUpTo(input, deps, 3)).toBeGreaterThan(3);
    expect(pagesRead).toBe(1);
  });

  it('a zone that is missing or not a collection counts none', async () => {
    const { deps, calls } = depsWith((p) => {
      throw new NotFoundError(p, 'collection');
    });
    expect(await zoneFilesUpTo(input, deps, 2)).toBe(0);
    expect(calls).toEqual(['listObjectPaths']);
  });

  it('any other store error is the caller’s', async () => {
    const { deps } = depsWith((p) => {
      throw new StoreError('STORE_UNAVAILABLE', p, 'disk gone');
    });
    await expect(zoneFilesUpTo(input, deps, 2)).rejects.toThrow('disk gone');
  });
});
