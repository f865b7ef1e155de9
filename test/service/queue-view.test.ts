/**
 * The line as GET /queue and `taskflow queue` show it, from the journal
 * alone: who has the turn per project and owner, positions across owners,
 * lock-free runs, started and ended runs, cancelled ones.
 */
import { describe, expect, it } from 'vitest';
import { MemoryJournal } from '../../src/engine/index.js';
import type { Json } from '../../src/engine/types.js';
import type { FlowInput } from '../../src/flows/types.js';
import { lineView, placeInLine } from '../../src/service/queue-view.js';
import { runMetaOf } from '../../src/service/run-meta.js';

const P1 = 'c1000000-0000-4000-8000-000000000001';
const P2 = 'c2000000-0000-4000-8000-000000000002';

function move(projectUuid: string, zone: string, opts: { validateOnly?: boolean; mode?: 'sync' | 'async' } = {}): FlowInput {
  return {
    projectUuid,
    flowName: 'landing_zone_move',
    flowData: { zone_uuid: zone, validate_only: opts.validateOnly ?? false },
    targets: ['irods'],
    requestMode: opts.mode ?? 'async',
    forceFail: false,
    timelineUuid: undefined,
    sodarUrl: 'http://site.invalid',
  };
}

const queued = (runId: string, owner: string, input: FlowInput) => ({ runId, projectUuid: input.projectUuid, owner, input: input as unknown as Json });
const started = (runId: string, owner: string, input: FlowInput, locked: boolean) => ({
  runId,
  flowName: input.flowName,
  label: input.projectUuid,
  meta: runMetaOf(input, locked, owner, input.requestMode === 'async' ? '2026-12-05T10:00:00.000Z' : undefined),
  tasks: [],
});
const ids = (runs: Array<{ run_id: string }>): string[] => runs.map((r) => r.run_id);

describe('lineView', () => {
  it('gives the turn per project and owner by the rule of the lines, and numbers the waiting runs across owners', () => {
    const j = new MemoryJournal();
    // owner A runs a move of P1; its next ones wait behind it
    j.enqueueRuns([queued('a-run', 'A', move(P1, 'z0'))]);
    j.start(started('a-run', 'A', move(P1, 'z0'), true));
    j.enqueueRuns([
      queued('a1', 'A', move(P1, 'z1')),
      queued('b1', 'B', move(P1, 'z2')),
      queued('a2', 'A', move(P1, 'z3')),
      queued('check', 'A', move(P1, 'z4', { validateOnly: true })),
      queued('b2', 'B', move(P1, 'z5')),
      queued('gone', 'B', move(P1, 'z6')),
      queued('p2-first', 'A', move(P2, 'z7')),
      queued('p2-second', 'A', move(P2, 'z8')),
    ]);
    expect(j.cancelQueuedRun('gone')).toBe(true);
    // neither a sync run nor an ended one is in a line
    j.start(started('sync-run', 'A', move(P1, 'z9', { mode: 'sync' }), true));
    j.start(started('ended', 'B', move(P1, 'z10'), true));
    j.finish('ended', { runId: 'ended', flowName: 'landing_zone_move', status: 'completed', total: 0, completed: 0, reverted: 0, revertFailures: [], durationMs: 1, executeMs: 1, revertMs: 0 });

    const [p1, p2] = lineView(j);
    expect(p1.project_uuid).toBe(P1);
    expect(ids(p1.running)).toEqual(['a-run', 'b1', 'check']);
    expect(p1.running[0]).toEqual({ run_id: 'a-run', flow_name: 'landing_zone_move', accepted_at: '2026-12-05T10:00:00.000Z', owner: 'A' });
    expect(p1.waiting.map((w) => [w.run_id, w.position])).toEqual([
      ['a1', 1],
      ['a2', 2],
      ['b2', 3],
    ]);
    expect(ids(p2.running)).toEqual(['p2-first']);
    expect(p2.waiting.map((w) => [w.run_id, w.position])).toEqual([['p2-second', 1]]);

    // one project: the same entry; a project with nothing in line: an empty one
    expect(lineView(j, P1)).toEqual([p1]);
    expect(lineView(j, 'c3000000-0000-4000-8000-000000000003')).toEqual([{ project_uuid: 'c3000000-0000-4000-8000-000000000003', running: [], waiting: [] }]);
    expect(placeInLine(j, P1, 'b1')).toBe('running');
    expect(placeInLine(j, P1, 'a2')).toBe('waiting');
    expect(placeInLine(j, P1, 'gone')).toBe('absent');

    // A's move ends: A's oldest waiting run has the turn
    j.finish('a-run', { runId: 'a-run', flowName: 'landing_zone_move', status: 'completed', total: 0, completed: 0, reverted: 0, revertFailures: [], durationMs: 1, executeMs: 1, revertMs: 0 });
    const [after] = lineView(j, P1);
    expect(ids(after.running)).toEqual(['a1', 'b1', 'check']);
    expect(after.waiting.map((w) => [w.run_id, w.position])).toEqual([
      ['a2', 1],
      ['b2', 2],
    ]);
  });
});
