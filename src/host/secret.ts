/**
 * The shared secret of `taskflow start`: generated on first start, stored in
 * `<dataDir>/secret` (mode 600), reused by later starts.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '../private-files.js';

/** Where the secret is stored. */
export function secretPath(dataDir: string): string {
  return join(dataDir, 'secret');
}

/** The stored secret, or undefined when there is none. */
export function readSecret(dataDir: string): string | undefined {
  const file = secretPath(dataDir);
  if (!existsSync(file)) return undefined;
  return readFileSync(file, 'utf8').trim() || undefined;
}

/** Whether TASKFLOW_SODAR_SECRET is set (it always wins over the stored secret). */
export function secretFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.TASKFLOW_SODAR_SECRET !== undefined && env.TASKFLOW_SODAR_SECRET !== '';
}

/**
 * `config` with the secret `taskflow start` stored in the data dir, when
 * TASKFLOW_SODAR_SECRET is not set: so `taskflow site` and `taskflow manage`
 * run on the data of an earlier `npm start` agree with its service.
 */
export function withStoredSecret<C extends { dataDir: string; sodarSecret: string }>(config: C, env: NodeJS.ProcessEnv = process.env): C {
  if (secretFromEnv(env)) return config;
  const stored = readSecret(config.dataDir);
  return stored === undefined ? config : { ...config, sodarSecret: stored };
}

/** The stored secret, creating it when there is none. */
export function ensureSecret(dataDir: string): { secret: string; created: boolean; file: string } {
  const file = secretPath(dataDir);
  const stored = readSecret(dataDir);
  if (stored !== undefined) return { secret: stored, created: false, file };
  ensurePrivateDir(dataDir);
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, `${secret}\n`, { mode: PRIVATE_FILE_MODE });
  chmodSync(file, PRIVATE_FILE_MODE);
  return { secret, created: true, file };
}
