import { describe, expect, it } from 'vitest';
import { secretMatches } from '../../src/service/auth.js';
import { parseSubmitBody } from '../../src/service/submit-request.js';

const good = {
  project_uuid: 'p1',
  request_mode: 'sync',
  flow_name: 'role_update',
  targets: ['irods'],
  sodar_secret: 's',
};

describe('parseSubmitBody', () => {
  it('accepts a minimal body with defaults', () => {
    const r = parseSubmitBody(good);
    expect(r).toEqual({
      ok: true,
      request: {
        projectUuid: 'p1',
        requestMode: 'sync',
        flowName: 'role_update',
        targets: ['irods'],
        secret: 's',
        flowData: {},
        forceFail: false,
        timelineUuid: undefined,
        sodarUrl: undefined,
      },
    });
  });

  it('names the first bad required field in protocol order', () => {
    expect(parseSubmitBody({})).toEqual({ ok: false, field: 'project_uuid' });
    expect(parseSubmitBody(null)).toEqual({ ok: false, field: 'project_uuid' });
    expect(parseSubmitBody([good])).toEqual({ ok: false, field: 'project_uuid' });
    expect(parseSubmitBody({ ...good, project_uuid: '' })).toEqual({ ok: false, field: 'project_uuid' });
    expect(parseSubmitBody({ ...good, request_mode: 3, flow_name: '' })).toEqual({ ok: false, field: 'request_mode' });
    expect(parseSubmitBody({ ...good, flow_name: null })).toEqual({ ok: false, field: 'flow_name' });
    expect(parseSubmitBody({ ...good, targets: [] })).toEqual({ ok: false, field: 'targets' });
    expect(parseSubmitBody({ ...good, targets: 'irods' })).toEqual({ ok: false, field: 'targets' });
    expect(parseSubmitBody({ ...good, targets: ['irods', 1] })).toEqual({ ok: false, field: 'targets' });
    expect(parseSubmitBody({ ...good, sodar_secret: '' })).toEqual({ ok: false, field: 'sodar_secret' });
    expect(parseSubmitBody({ ...good, sodar_secret: ['s'] })).toEqual({ ok: false, field: 'sodar_secret' });
  });

  it('checks the optional fields types, handing on the secret sent so that it is checked first', () => {
    expect(parseSubmitBody({ ...good, flow_data: [] })).toEqual({ ok: false, field: 'flow_data', secret: 's' });
    expect(parseSubmitBody({ ...good, flow_data: 'x' })).toEqual({ ok: false, field: 'flow_data', secret: 's' });
    expect(parseSubmitBody({ ...good, force_fail: 'true' })).toEqual({ ok: false, field: 'force_fail', secret: 's' });
    expect(parseSubmitBody({ ...good, timeline_uuid: 5 })).toEqual({ ok: false, field: 'timeline_uuid', secret: 's' });
    expect(parseSubmitBody({ ...good, test_mode: 'yes' })).toEqual({ ok: false, field: 'test_mode', secret: 's' });
    expect(parseSubmitBody({ ...good, sodar_url: 'file:///etc/passwd' })).toEqual({ ok: false, field: 'sodar_url', secret: 's' });
    expect(parseSubmitBody({ ...good, sodar_url: 'not a url' })).toEqual({ ok: false, field: 'sodar_url', secret: 's' });
  });

  it('maps timeline_uuid None to undefined and keeps a real one', () => {
    const none = parseSubmitBody({ ...good, timeline_uuid: 'None' });
    const some = parseSubmitBody({ ...good, timeline_uuid: 'e1', sodar_url: 'http://h:1', force_fail: true });
    expect(none.ok && none.request.timelineUuid).toBeUndefined();
    expect(some.ok && some.request).toMatchObject({ timelineUuid: 'e1', sodarUrl: 'http://h:1', forceFail: true });
  });
});

describe('secretMatches', () => {
  it('matches only the identical string', () => {
    expect(secretMatches('abc', 'abc')).toBe(true);
    expect(secretMatches('abd', 'abc')).toBe(false);
    expect(secretMatches('abcd', 'abc')).toBe(false);
    expect(secretMatches('', 'abc')).toBe(false);
    expect(secretMatches(undefined, 'abc')).toBe(false);
    expect(secretMatches(['abc'], 'abc')).toBe(false);
  });
});
