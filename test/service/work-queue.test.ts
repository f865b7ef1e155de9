import { describe, expect, it } from 'vitest';
import { QueueClosedError, WorkQueue } from '../../src/service/work-queue.js';

/** A promise with its resolve exposed. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('WorkQueue', () => {
  it('never runs more than its concurrency and runs jobs in order', async () => {
    const q = new WorkQueue(2);
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const started: number[] = [];
    let peak = 0;
    const jobs = gates.map((g, i) =>
      q.run(async () => {
        started.push(i);
        peak = Math.max(peak, q.active);
        await g.promise;
        return i;
      }),
    );
    expect(started).toEqual([0, 1]);
    expect(q.pending).toBe(2);
    gates[1].resolve();
    await jobs[1];
    expect(started).toEqual([0, 1, 2]);
    gates[0].resolve();
    gates[2].resolve();
    gates[3].resolve();
    expect(await Promise.all(jobs)).toEqual([0, 1, 2, 3]);
    expect(peak).toBe(2);
  });

  it('passes job errors through and keeps going', async () => {
    const q = new WorkQueue(1);
    await expect(q.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await q.run(async () => 7)).toBe(7);
  });

  it('close rejects waiting jobs, lets running ones finish, then refuses new ones', async () => {
    const q = new WorkQueue(1);
    const gate = deferred();
    const running = q.run(async () => {
      await gate.promise;
      return 'done';
    });
    const waiting = q.run(async () => 'never');
    const closed = q.close();
    await expect(waiting).rejects.toBeInstanceOf(QueueClosedError);
    gate.resolve();
    await closed;
    expect(await running).toBe('done');
    await expect(q.run(async () => 1)).rejects.toBeInstanceOf(QueueClosedError);
  });

  it('refuses a concurrency below 1', () => {
    expect(() => new WorkQueue(0)).toThrow(RangeError);
  });
});
