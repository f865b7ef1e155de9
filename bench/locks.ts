/**
 * `npm run bench -- locks [--pairs N]`: acquire + release pairs per second,
 * one after the other on one project, for the embedded SQLite lease and for
 * Redis (TASKFLOW_REDIS_URL, default redis://127.0.0.1:6379). For scale: tooz
 * on Redis, what the original used, took 212 µs per pair on the reference machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import {
  LeaseLockManager,
  lockDatabasePath,
  type LeaseStore,
  RedisLeaseStore,
  SqliteLeaseStore,
} from '../src/locks/index.js';

const LEASE_MS = 30_000;
const NOW = { retryCount: 0, retryIntervalMs: 0 };

interface PairFigures {
  pairs_per_s: number;
  us_per_pair: number;
}

async function measure(name: string, store: LeaseStore, pairs: number): Promise<PairFigures> {
  const locks = new LeaseLockManager(store, { leaseMs: LEASE_MS });
  const project = `bench-${randomUUID()}`;
  try {
    const warmup = Math.min(1_000, pairs);
    for (let i = 0; i < warmup; i++) await (await locks.acquire(project, NOW)).release();
    const start = process.hrtime.bigint();
    for (let i = 0; i < pairs; i++) await (await locks.acquire(project, NOW)).release();
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const figures = {
      pairs_per_s: Math.round(pairs / seconds),
      us_per_pair: Math.round((seconds / pairs) * 1e6 * 10) / 10,
    };
    process.stderr.write(`${name}: ${pairs} pairs in ${seconds.toFixed(2)} s, ${figures.us_per_pair} µs per pair\n`);
    return figures;
  } finally {
    await locks.close();
  }
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { pairs: { type: 'string', default: '20000' } } });
  const pairs = Number(values.pairs);
  if (!Number.isInteger(pairs) || pairs < 1) throw new Error(`--pairs must be a positive integer, got ${values.pairs}`);

  const dir = mkdtempSync(join(tmpdir(), 'taskflow-bench-locks-'));
  const result: Record<string, unknown> = { bench: 'locks', pairs };
  try {
    result.embedded = await measure('embedded', new SqliteLeaseStore(lockDatabasePath(dir)), pairs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const redisUrl = process.env.TASKFLOW_REDIS_URL ?? 'redis://127.0.0.1:6379';
  try {
    result.redis = await measure('redis', new RedisLeaseStore(redisUrl), pairs);
  } catch (err) {
    result.redis = { error: (err as Error).message };
    process.exitCode = 1;
  }
  result.tooz_redis_us_per_pair = 212;
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
