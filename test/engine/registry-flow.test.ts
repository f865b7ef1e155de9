import { describe, expect, it } from 'vitest';
import {
  DuplicateTaskKindError,
  LinearFlow,
  TaskRegistry,
  UnknownTaskKindError,
} from '../../src/engine/index.js';
import { addItem, newWorld, registry } from './fixtures.js';

describe('TaskRegistry', () => {
  it('makes tasks from a definition and rebuilds them from kind and args', async () => {
    const task = addItem('add a', 'irods', { item: 'a' });
    expect(task).toMatchObject({ kind: 'test.addItem', name: 'add a', target: 'irods', args: { item: 'a' } });
    const rebuilt = registry.create({ kind: task.kind, name: task.name, target: task.target, args: task.args });
    const world = newWorld();
    const undo = await rebuilt.prepare(world);
    expect(undo).toBe('a');
    await rebuilt.apply(world, undo);
    expect([...world.effects]).toEqual(['a']);
    await rebuilt.revert(world, 'a');
    expect(world.effects.size).toBe(0);
    expect(registry.has('test.addItem')).toBe(true);
    expect(registry.has('nope')).toBe(false);
    expect(registry.kinds()).toContain('test.addItemAsync');
  });

  it('refuses a kind defined twice', () => {
    const reg = new TaskRegistry<null>();
    reg.define({ kind: 'k', prepare: () => undefined, apply: () => {}, revert: () => {} });
    expect(() => reg.define({ kind: 'k', prepare: () => undefined, apply: () => {}, revert: () => {} })).toThrow(DuplicateTaskKindError);
  });

  it('refuses to rebuild an unknown kind, naming it', () => {
    const reg = new TaskRegistry<null>();
    expect(() => reg.create({ kind: 'store.gone', name: 'x', target: 'irods', args: {} })).toThrow(UnknownTaskKindError);
    expect(() => reg.create({ kind: 'store.gone', name: 'x', target: 'irods', args: {} })).toThrow(/store\.gone/);
  });
});

describe('LinearFlow', () => {
  it('keeps only tasks whose target is requested, in order', () => {
    const flow = new LinearFlow<ReturnType<typeof newWorld>>('f', ['irods']);
    flow
      .add(addItem('one', 'irods', { item: '1' }))
      .add(addItem('two', 'sodar', { item: '2' }))
      .add(addItem('three', 'irods', { item: '3' }));
    expect(flow.name).toBe('f');
    expect(flow.tasks.map((t) => t.name)).toEqual(['one', 'three']);
  });

  it('keeps nothing when no target is requested', () => {
    const flow = new LinearFlow<ReturnType<typeof newWorld>>('f', []);
    flow.add(addItem('one', 'irods', { item: '1' }));
    expect(flow.tasks).toHaveLength(0);
  });
});
