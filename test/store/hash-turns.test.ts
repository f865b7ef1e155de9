/**
 * The hash pool's turn order (hash-turns.ts) on plain values: calls take
 * turns a unit each, a paused unit goes only to its worker, and a worker
 * resumes its own paused unit of a task before starting a fresh one.
 */
import { describe, expect, it } from 'vitest';
import { Task, Turns, type Unit } from '../../src/store/embedded/hash-turns.js';

type W = 'w1' | 'w2';
interface U extends Unit<W> {
  name: string;
}

function units(task: Task<W>, ...names: string[]): U[] {
  return names.map((name) => ({ name, task, worker: undefined }));
}

const names = (list: Array<U | undefined>) => list.map((u) => u?.name);

describe('hash pool turns', () => {
  it('serves calls round-robin, a unit each, in the order they came', () => {
    const turns = new Turns<W, U>();
    const [big, small, other] = [new Task<W>(), new Task<W>(), new Task<W>()];
    for (const u of [...units(big, 'b1', 'b2', 'b3'), ...units(small, 's1'), ...units(other, 'o1', 'o2')]) turns.add(u);
    expect(names([turns.take('w1'), turns.take('w1'), turns.take('w1'), turns.take('w1'), turns.take('w1'), turns.take('w1'), turns.take('w1')])).toEqual([
      'b1',
      's1',
      'o1',
      'b2',
      'o2',
      'b3',
      undefined,
    ]);
    expect(turns.hasFresh).toBe(false);
  });

  it('gives a paused unit only to its worker, after the calls that waited meanwhile', () => {
    const turns = new Turns<W, U>();
    const huge = new Task<W>();
    const [h] = units(huge, 'huge');
    turns.add(h);
    expect(turns.take('w1')).toBe(h);
    const small = new Task<W>();
    turns.add(units(small, 'small')[0]!);
    // w1 runs the huge unit, and the small call waits for it
    expect(turns.othersWaitFor('w1', huge)).toBe(true);
    turns.pause(h, 'w1');
    expect(turns.othersWaitFor('w2', small)).toBe(false);
    expect(turns.take('w2')?.name).toBe('small');
    expect(turns.take('w2')).toBeUndefined();
    expect(turns.hasFresh).toBe(false);
    expect(turns.take('w1')).toBe(h);
  });

  it('lets a worker resume its own paused unit of a call before starting another of it', () => {
    const turns = new Turns<W, U>();
    const bulk = new Task<W>();
    const [a, b, c] = units(bulk, 'a', 'b', 'c');
    for (const u of [a, b, c]) turns.add(u);
    expect(turns.take('w1')).toBe(a);
    expect(turns.take('w2')).toBe(b);
    turns.pause(a, 'w1');
    turns.pause(b, 'w2');
    expect(turns.take('w2')).toBe(b);
    expect(turns.take('w2')).toBe(c);
    expect(turns.take('w2')).toBeUndefined();
    // w1 still runs a: nothing of another call waits for it
    expect(turns.othersWaitFor('w1', bulk)).toBe(false);
    expect(turns.take('w1')).toBe(a);
  });

  it('takes out the units paused in a worker that died, and everything on clear', () => {
    const turns = new Turns<W, U>();
    const t1 = new Task<W>();
    const t2 = new Task<W>();
    const [x, y] = units(t1, 'x', 'y');
    const [z] = units(t2, 'z');
    for (const u of [x, y, z]) turns.add(u);
    turns.take('w1');
    turns.pause(x, 'w1');
    expect(names(turns.takePausedIn('w1'))).toEqual(['x']);
    expect(names(turns.takePausedIn('w1'))).toEqual([]);
    expect(names(turns.clear()).sort()).toEqual(['y', 'z']);
    expect(turns.hasFresh).toBe(false);
    expect(turns.take('w1')).toBeUndefined();
  });
});
