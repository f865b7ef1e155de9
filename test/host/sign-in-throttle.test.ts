import { afterEach, describe, expect, it } from 'vitest';
import { SignInThrottle } from '../../src/host/auth/sign-in-throttle.js';
import { injectSite, type InjectSite } from '../support/host-inject-site.js';
import { PageClient } from '../support/page-client.js';

describe('sign-in throttle', () => {
  it('refuses a name after its failures in the window, until the oldest one leaves it', () => {
    let now = 1_000_000;
    const t = new SignInThrottle({ maxFailures: 3, windowMs: 60_000, now: () => now });
    for (let i = 0; i < 3; i++) {
      expect(t.retryAfterSeconds('alice')).toBe(0);
      t.failed('alice');
      now += 10_000;
    }
    // failures at 0 s, 10 s, 20 s; it is 30 s: the first leaves the window at 60 s
    expect(t.retryAfterSeconds('alice')).toBe(30);
    expect(t.retryAfterSeconds('bob')).toBe(0);
    expect(t.retryAfterSeconds('Alice')).toBe(0);
    now += 30_000;
    expect(t.retryAfterSeconds('alice')).toBe(0);
    t.failed('alice');
    expect(t.retryAfterSeconds('alice')).toBe(10);
  });

  it('forgets a name after a successful sign-in', () => {
    const t = new SignInThrottle({ maxFailures: 2, windowMs: 60_000, now: () => 5 });
    t.failed('alice');
    t.succeeded('alice');
    t.failed('alice');
    expect(t.retryAfterSeconds('alice')).toBe(0);
  });

  it('remembers at most maxNames names, dropping those that failed longest ago', () => {
    let now = 0;
    const t = new SignInThrottle({ maxFailures: 1, windowMs: 60_000, maxNames: 100, now: () => now++ });
    for (let i = 0; i < 1000; i++) t.failed(`user${i}`);
    expect(t.retryAfterSeconds('user999')).toBeGreaterThan(0);
    expect(t.retryAfterSeconds('user900')).toBeGreaterThan(0);
    expect(t.retryAfterSeconds('user899')).toBe(0);
  });
});

describe('site sign-in page under guessing', () => {
  let site: InjectSite | undefined;
  afterEach(async () => {
    await site?.close();
  });

  it('refuses a name with 429 and Retry-After after the set failures, even with the right password, and lets other names in', async () => {
    site = await injectSite({ env: { SODAR_SITE_SIGNIN_FAILURES: '3', SODAR_SITE_SIGNIN_WINDOW: '600' } });
    const b = new PageClient(site.app);
    for (let i = 0; i < 3; i++) {
      const wrong = await b.signIn('admin', `guess-${i}`);
      expect(wrong.status).toBe(401);
      expect(wrong.text).toContain('Wrong user name or password.');
    }
    const held = await b.signIn('admin', site.adminPassword);
    expect(held.status).toBe(429);
    expect(held.text).toContain('Too many failed sign-ins for this user name: try again in 10 minutes.');
    expect(Number(held.headers['retry-after'])).toBeGreaterThan(590);
    expect(Number(held.headers['retry-after'])).toBeLessThanOrEqual(600);
    // no session was made
    expect((await b.get('/')).location).toBe('/login?next=%2F');

    const other = await b.signIn('nobody', 'whatever');
    expect(other.status).toBe(401);
  });

  it('a successful sign-in clears the count', async () => {
    site = await injectSite({ env: { SODAR_SITE_SIGNIN_FAILURES: '2' } });
    const b = new PageClient(site.app);
    expect((await b.signIn('admin', 'guess')).status).toBe(401);
    expect((await b.signIn('admin', site.adminPassword)).status).toBe(303);
    const c = new PageClient(site.app);
    expect((await c.signIn('admin', 'guess')).status).toBe(401);
    expect((await c.signIn('admin', site.adminPassword)).status).toBe(303);
  });
});
