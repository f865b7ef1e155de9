/**
 * What bin/taskflow hands node, for the test of the script and for the
 * iRODS bench, which starts node itself but with the script's setting.
 *
 * @module
 */
import { spawnSync } from 'node:child_process';

/**
 * The GLIBC_TUNABLES node gets when `bin` (bin/taskflow) starts it with
 * `env` ('' when none): node prints it from a `--import` data: URL and exits
 * before the CLI runs.
 */
export function tunablesFromBin(bin: string, env: NodeJS.ProcessEnv): string {
  // no quotes in the code: NODE_OPTIONS takes them as its own
  const show = 'data:text/javascript,process.stdout.write(process.env.GLIBC_TUNABLES||String());process.exit(0)';
  const r = spawnSync(bin, [], { env: { ...env, NODE_OPTIONS: `--import=${show}` }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${bin} did not start node (exit ${r.status}): ${r.stderr}`);
  return r.stdout;
}
