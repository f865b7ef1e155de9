/**
 * `taskflow runs ID --follow` as it reads the journal: waiting in line, a
 * bar redrawn in place on a terminal or a line per change elsewhere, and
 * how the run ended (a run that leaves the line without a record was
 * cancelled). The journal is scripted: each read shows the next state.
 */
import { describe, expect, it } from 'vitest';
import { FOLLOW_EXIT, followRun, progressFraction, progressText } from '../../src/cli/run-follow.js';
import type { QueuedRun } from '../../src/engine/queue-store.js';
import type { JournalRunSummary, RunProgress } from '../../src/engine/types.js';

type Step = { summary?: Partial<JournalRunSummary>; queued?: boolean };

/** A journal that shows the next step after each wait of the follow (the last one stays). */
function scripted(runId: string, steps: Step[]) {
  let i = 0;
  let current: Step = steps[0];
  const others: QueuedRun[] = [{ seq: 1, runId: 'ahead', projectUuid: 'p', owner: 'o', input: {}, acceptedAt: '' }];
  return {
    sleep: async () => {
      i = Math.min(i + 1, steps.length - 1);
      current = steps[i];
    },
    getRunSummary(id: string): JournalRunSummary | undefined {
      if (id !== runId) return undefined; // the run ahead has not started either
      return current.summary === undefined ? undefined : ({ runId, flowName: 'f', taskCount: 4, startedAt: '', status: 'running', ...current.summary } as JournalRunSummary);
    },
    queuedRuns(): QueuedRun[] {
      return current.queued ? [...others, { seq: 2, runId, projectUuid: 'p', owner: 'o', input: {}, acceptedAt: '' }] : [];
    },
  };
}

function output(isTTY: boolean) {
  let text = '';
  return { out: { isTTY, columns: 200, write: (t: string) => (text += t) }, text: () => text };
}

const progress = (tasks: number, moved?: number): RunProgress => ({
  tasks: { done: tasks, total: 4 },
  ...(moved === undefined ? {} : { counts: { filesMoved: { done: moved, total: 10 } } }),
});
const result = (status: 'completed' | 'rolled_back', completed: number, error?: string) => ({
  runId: 'r', flowName: 'f', status, total: 4, completed, reverted: 0, revertFailures: [], durationMs: 1, executeMs: 1, revertMs: 0, ...(error ? { error } : {}),
});

describe('followRun', () => {
  it('off a terminal: a plain line per change, then how it ended', async () => {
    const journal = scripted('r', [
      { queued: true },
      { queued: true },
      { summary: { progress: progress(1) } },
      { summary: { progress: progress(2, 5) } },
      { summary: { progress: progress(2, 5) } },
      { summary: { status: 'completed', result: result('completed', 4), progress: { tasks: { done: 4, total: 4 }, counts: { filesMoved: { done: 10, total: 10 } } } } },
    ]);
    const { out, text } = output(false);
    expect(await followRun(journal, 'r', out, { sleep: journal.sleep })).toBe('completed');
    expect(text().split('\n')).toEqual([
      'run r: waiting in line (position 2)',
      'run r: running: 1/4 tasks',
      'run r: running: 2/4 tasks, files moved 5/10',
      'run r: completed (4/4 tasks, files moved 10/10)',
      '',
    ]);
    expect(FOLLOW_EXIT.completed).toBe(0);
  });

  it('on a terminal: a bar redrawn in place, ended by a line with a newline', async () => {
    const journal = scripted('r', [
      { summary: { progress: progress(2, 5) } },
      { summary: { status: 'rolled_back', result: result('rolled_back', 2, 'boom'), progress: progress(2, 5) } },
    ]);
    const { out, text } = output(true);
    expect(await followRun(journal, 'r', out, { sleep: journal.sleep })).toBe('rolled_back');
    const frames = text().split('\r\x1b[2K').filter((f) => f !== '');
    expect(frames).toEqual([
      `[${'#'.repeat(15)}${'-'.repeat(15)}]  50%  run r: running: 2/4 tasks, files moved 5/10`,
      'run r: rolled_back (2/4 tasks, files moved 5/10): boom\n',
    ]);
  });

  it('a run that leaves the line without a record was cancelled; one never seen is not found', async () => {
    const { out, text } = output(false);
    const cancelled = scripted('r', [{ queued: true }, {}]);
    expect(await followRun(cancelled, 'r', out, { sleep: cancelled.sleep })).toBe('cancelled');
    expect(text()).toBe('run r: waiting in line (position 2)\nrun r: cancelled: left the line without running\n');
    const never = scripted('r', [{}]);
    await expect(followRun(never, 'r', output(false).out, { sleep: never.sleep })).rejects.toThrow('Run "r" not found');
  });

  it('words for counts, and the bar follows the step under way', () => {
    expect(progressText({ tasks: { done: 1, total: 2 }, counts: { filesChecked: { done: 3, total: 3 } } })).toBe('1/2 tasks, files checked 3/3');
    expect(progressFraction({ tasks: { done: 3, total: 4 }, counts: { filesChecked: { done: 3, total: 3 }, filesMoved: { done: 1, total: 4 } } })).toBe(0.25);
    expect(progressFraction({ tasks: { done: 3, total: 4 } })).toBe(0.75);
  });
});
