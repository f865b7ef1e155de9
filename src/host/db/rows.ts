/**
 * What every repository shares: the row helpers and the one place where the
 * stored 0/1 flags become booleans.
 *
 * @module
 */
export const now = (): string => new Date().toISOString();

// Booleans are stored as INTEGER 0/1 (the same in SQLite and PostgreSQL); the
// domain sees true/false only, so the conversion lives here and nowhere else.
export const toBool = (v: unknown): boolean => Number(v) === 1;

export const fromBool = (b: boolean): number => (b ? 1 : 0);

export type Stored<T, K extends keyof T> = Omit<T, K> & Record<K, number> & Record<string, unknown>;

export function first<T>(rows: T[]): T | undefined {
  return rows[0];
}
