/**
 * `npm run bench -- engine --tasks N --journal memory|sqlite [--fail]`: runs a
 * linear flow of N no-op tasks (with `--fail`: forced to fail after the last,
 * so all N are reverted) and prints one JSON line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LinearFlow, MemoryJournal, SqliteJournal, TaskRegistry, runFlow, type Journal } from '../src/engine/index.js';

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      tasks: { type: 'string', default: '10000' },
      journal: { type: 'string', default: 'memory' },
      fail: { type: 'boolean', default: false },
    },
  });
  const n = Number(values.tasks);
  const kind = values.journal;
  if (!Number.isInteger(n) || n < 1) throw new Error(`--tasks must be a positive integer, got "${values.tasks}"`);
  if (kind !== 'memory' && kind !== 'sqlite') throw new Error(`--journal must be memory or sqlite, got "${kind}"`);

  const registry = new TaskRegistry<null>();
  // a no-op with a small undo value, so --fail calls every revert
  const noop = registry.define<{ i: number }, number>({
    kind: 'bench.noop',
    prepare: (_ctx, args) => args.i,
    apply: () => {},
    revert: () => {},
  });

  const dir = mkdtempSync(join(tmpdir(), 'bench-engine-'));
  const journal: Journal = kind === 'memory' ? new MemoryJournal() : new SqliteJournal(join(dir, 'journal.sqlite'));
  try {
    process.stderr.write(`engine: ${n} tasks, ${kind} journal${values.fail ? ', forced failure' : ''}\n`);
    const t0 = performance.now();
    const flow = new LinearFlow<null>('bench', ['irods']);
    for (let i = 0; i < n; i++) flow.add(noop(`noop ${i}`, 'irods', { i }));
    const result = await runFlow(flow, null, { journal, forceFail: values.fail });
    const seconds = (performance.now() - t0) / 1000;
    const expected = values.fail ? 'rolled_back' : 'completed';
    if (result.status !== expected || result.completed !== n || (values.fail && result.reverted !== n)) {
      throw new Error(`unexpected result: ${JSON.stringify({ ...result, revertFailures: result.revertFailures.length })}`);
    }
    process.stderr.write(`engine: ${result.status} in ${seconds.toFixed(3)} s\n`);
    const line = {
      bench: 'engine',
      tasks: n,
      journal: kind,
      fail: values.fail,
      seconds: Number(seconds.toFixed(4)),
      us_per_task: Number(((seconds * 1e6) / n).toFixed(3)),
      rss_mb: Number((process.memoryUsage().rss / 1048576).toFixed(1)),
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  } finally {
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
