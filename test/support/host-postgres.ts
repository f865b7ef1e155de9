/**
 * A fresh PostgreSQL schema per test on the test server
 * (postgres://127.0.0.1:5432/test), dropped afterwards. Fails loudly when the
 * server cannot be reached.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Base URL of the test database (PG_TEST_URL overrides). */
export const PG_TEST_URL = process.env.PG_TEST_URL ?? 'postgres://root@127.0.0.1:5432/test';

/** A unique schema: `url` selects it (our `schema` URL parameter); `drop()` removes it. */
export async function pgSchema(): Promise<{ url: string; schema: string; drop(): Promise<void> }> {
  const schema = `host_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: PG_TEST_URL, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`PostgreSQL test server unreachable at ${PG_TEST_URL}: ${err instanceof Error ? err.message : String(err)}`);
  }
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.end();
  const sep = PG_TEST_URL.includes('?') ? '&' : '?';
  return {
    url: `${PG_TEST_URL}${sep}schema=${schema}`,
    schema,
    async drop() {
      const c = new pg.Client({ connectionString: PG_TEST_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    },
  };
}
