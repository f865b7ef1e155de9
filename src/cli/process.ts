/**
 * Process concerns the commands share: the long-running ones' (`serve`,
 * `site`, `start`) port options and graceful stop, and every command's
 * output into a pipe that closes early.
 *
 * @module
 */

/** Parses a `--port` style option. */
export function parsePort(name: string, value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${name} must be 0..65535, got "${value}"`);
  return port;
}

/**
 * On SIGTERM or SIGINT, prints `message(signal)`, awaits `close` and exits 0
 * (1 on an error). A second signal exits at once with 1, for an operator who
 * does not want to wait for running flows.
 */
export function exitOnSignals(close: () => Promise<void>, message: (signal: string) => string): void {
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      process.stderr.write(`taskflow: second ${signal}, exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    process.stderr.write(`${message(signal)}\n`);
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`taskflow: error while stopping: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/**
 * A reader that stops early (`taskflow store ls -r / | head`) closes our
 * stdout: that ends the output, it is no error, so the command exits 0
 * without a stack trace instead of dying on an unhandled EPIPE.
 */
export function endOnClosedStdout(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}
