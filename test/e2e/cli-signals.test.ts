/**
 * A process manager (or a test) that sends SIGTERM the moment a long-running
 * command prints its "listening" line gets a clean stop, exit code 0: the
 * signal handlers are in place before that line is written. Written after
 * them, a signal sent on seeing the line killed the process outright in
 * about half of the tries on this machine.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnCli } from '../support/host-processes.js';
import { makeTempDir, removeDir } from '../support/service-harness.js';

const TRIES = 8;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => removeDir(d)));

describe('SIGTERM on the ready line', () => {
  for (const [command, ready] of [
    ['serve', /taskflow service listening on/],
    ['site', /taskflow site listening on/],
  ] as const) {
    it(`stops taskflow ${command} cleanly, every time`, async () => {
      const codes: (number | null)[] = [];
      for (let i = 0; i < TRIES; i++) {
        const dir = makeTempDir('taskflow-signals-');
        dirs.push(dir);
        const p = spawnCli([command, '--port', '0'], { TASKFLOW_DATA_DIR: dir, TASKFLOW_TEST_MODE: 'true' });
        await p.waitFor(ready);
        codes.push(await p.stop('SIGTERM'));
      }
      expect(codes).toEqual(new Array(TRIES).fill(0));
    });
  }
});
