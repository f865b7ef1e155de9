/**
 * The shared secret of `taskflow start`: generated on first start, stored in
 * `<dataDir>/secret` (mode 600), reused by later starts.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the secret is stored. */
export function secretPath(dataDir: string): string {
  return join(dataDir, 'secret');
}

/** The stored secret, creating it when there is none. */
export function ensureSecret(dataDir: string): { secret: string; created: boolean; file: string } {
  const file = secretPath(dataDir);
  if (existsSync(file)) {
    const secret = readFileSync(file, 'utf8').trim();
    if (secret !== '') return { secret, created: false, file };
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { secret, created: true, file };
}
