import { describe, expect, it } from 'vitest';
import { withCompensation } from '../../src/host/submit.js';

describe('withCompensation', () => {
  it('undoes the applied change with what apply returned and the error, then rethrows', async () => {
    const seen: unknown[] = [];
    const failure = new Error('submit refused');
    await expect(
      withCompensation(
        async () => 'row-1',
        async () => {
          throw failure;
        },
        async (applied, err) => {
          seen.push(applied, err);
        },
      ),
    ).rejects.toBe(failure);
    expect(seen).toEqual(['row-1', failure]);
  });

  it('keeps the change and returns what apply returned when the submit succeeds', async () => {
    let undone = false;
    const out = await withCompensation(
      async () => 42,
      async (applied) => {
        expect(applied).toBe(42);
      },
      async () => {
        undone = true;
      },
    );
    expect(out).toBe(42);
    expect(undone).toBe(false);
  });

  it('does not undo when apply itself fails', async () => {
    let undone = false;
    await expect(
      withCompensation(
        async () => {
          throw new Error('insert failed');
        },
        async () => undefined,
        async () => {
          undone = true;
        },
      ),
    ).rejects.toThrow('insert failed');
    expect(undone).toBe(false);
  });
});
