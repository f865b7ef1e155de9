#!/usr/bin/env node
// `npm test`'s first step (the pretest script): the page tests drive Debian's
// Chromium, so make sure it is there. As root it is installed with apt-get;
// otherwise this stops the run with the exact line to type. A missing browser
// always fails the run (never a skip), so CI (CI=true) cannot pass without it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CHROMIUM_INSTALL, CHROMIUM_PATH } from './chromium-path.js';

if (existsSync(CHROMIUM_PATH)) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot) {
  process.stderr.write(
    `The page tests need Chromium at ${CHROMIUM_PATH} and it is missing.\n` +
      `Install it as root, then run the tests again:\n  sudo sh -c '${CHROMIUM_INSTALL}'\n` +
      '(or set CHROMIUM_PATH to a Chromium or Chrome binary you have)\n',
  );
  process.exit(1);
}

process.stderr.write(`Chromium is missing at ${CHROMIUM_PATH}: installing it (${CHROMIUM_INSTALL})\n`);
const run = spawnSync('sh', ['-c', CHROMIUM_INSTALL], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
if (run.status !== 0 || !existsSync(CHROMIUM_PATH)) {
  process.stderr.write(`Installing Chromium failed (exit ${run.status ?? run.signal}); the page tests cannot run without it.\n`);
  process.exit(1);
}
process.stderr.write(`Installed Chromium at ${CHROMIUM_PATH}\n`);
