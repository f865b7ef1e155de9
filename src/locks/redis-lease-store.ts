/**
 * Leases in Redis: `SET key token NX PX lease`, renewal and release by Lua
 * scripts that compare the token first, so only the holder can touch its lease.
 *
 * We fail closed and fast: no offline queue, a bounded connect and command
 * time, one retry per command. Reconnection continues in the background, so
 * acquires work again as soon as Redis is back.
 *
 * @module
 */
import { Redis } from 'ioredis';
import type { LeaseStore } from './lease-store.js';
import { LockBackendError } from './types.js';

/** Bounds on how long we wait for Redis before failing an acquire. */
export interface RedisLeaseStoreOptions {
  /** Longest wait for a connection, ms. */
  connectTimeoutMs?: number;
  /** Longest wait for one command's answer, ms. */
  commandTimeoutMs?: number;
}

const RENEW_SCRIPT = `
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0`;

const RELEASE_SCRIPT = `
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0`;

type LeaseRedis = Redis & {
  leaseRenew(key: string, token: string, leaseMs: number): Promise<number>;
  leaseRelease(key: string, token: string): Promise<number>;
};

/** Leases in the Redis at `url`. Connects on first use. */
export class RedisLeaseStore implements LeaseStore {
  private readonly client: LeaseRedis;
  private readonly connectTimeoutMs: number;
  private lastError: Error | undefined;
  readonly description: string;

  constructor(url: string, opts: RedisLeaseStoreOptions = {}) {
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 2_000;
    this.client = new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: this.connectTimeoutMs,
      commandTimeout: opts.commandTimeoutMs ?? 2_000,
      // Keep reconnecting in the background, at most a second apart.
      retryStrategy: (times) => Math.min(times * 100, 1_000),
    }) as LeaseRedis;
    this.client.defineCommand('leaseRenew', { numberOfKeys: 1, lua: RENEW_SCRIPT });
    this.client.defineCommand('leaseRelease', { numberOfKeys: 1, lua: RELEASE_SCRIPT });
    // Without a listener ioredis prints every connection error; we keep the
    // last one as the reason we give when an acquire fails.
    this.client.on('error', (err: Error) => {
      this.lastError = err;
    });
    this.client.on('ready', () => {
      this.lastError = undefined;
    });
    const o = this.client.options;
    this.description = o.path ? `Redis at ${o.path}` : `Redis at ${o.host}:${o.port}`;
  }

  async tryAcquire(key: string, token: string, leaseMs: number): Promise<boolean> {
    return this.command(async (c) => (await c.set(key, token, 'PX', leaseMs, 'NX')) === 'OK');
  }

  async renew(key: string, token: string, leaseMs: number): Promise<boolean> {
    return this.command(async (c) => (await c.leaseRenew(key, token, leaseMs)) === 1);
  }

  async release(key: string, token: string): Promise<boolean> {
    return this.command(async (c) => (await c.leaseRelease(key, token)) === 1);
  }

  async isLocked(key: string): Promise<boolean> {
    return this.command(async (c) => (await c.exists(key)) === 1);
  }

  async close(): Promise<void> {
    if (this.client.status === 'ready') {
      try {
        await this.client.quit();
        return;
      } catch {
        // fall through: drop the connection instead
      }
    }
    this.client.disconnect();
  }

  private async command<T>(fn: (c: LeaseRedis) => Promise<T>): Promise<T> {
    await this.ready();
    try {
      return await fn(this.client);
    } catch (err) {
      throw new LockBackendError(`${this.description}: ${(err as Error).message}`);
    }
  }

  /** Resolves once connected; throws LockBackendError with the reason if Redis cannot be reached soon. */
  private async ready(): Promise<void> {
    const c = this.client;
    if (c.status === 'ready') return;
    if (c.status === 'end') throw new LockBackendError(`${this.description}: connection closed`);
    // The last connection attempt failed (the error is cleared on 'ready'):
    // say so at once instead of making every acquire wait for the next
    // background reconnect, which picks Redis up again when it is back.
    if (this.lastError) throw this.unreachable();
    if (c.status === 'wait') c.connect().catch(() => undefined);
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(timer);
        c.off('ready', onReady);
        c.off('error', onError);
        if (err) reject(err);
        else resolve();
      };
      const onReady = () => done();
      const onError = () => done(this.unreachable());
      const timer = setTimeout(() => done(this.unreachable()), this.connectTimeoutMs);
      c.on('ready', onReady);
      c.on('error', onError);
    });
  }

  private unreachable(): LockBackendError {
    const why = this.lastError?.message ?? `no connection within ${this.connectTimeoutMs} ms`;
    return new LockBackendError(`${this.description} is unreachable: ${why}`);
  }
}
