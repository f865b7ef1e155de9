#!/usr/bin/env node
// `npm test`'s first step (the pretest script): the Debian packages the tests
// drive (scripts/debian-packages.js) must be there. The one rule for all of
// them: as root, install what is missing with apt-get; otherwise, under
// CI=true, stop the run with the exact line to type; otherwise warn with that
// line and go on (the tests that need a missing package then fail with the
// same line, never skip, so no run passes without it).
import { spawnSync } from 'node:child_process';
import { DEBIAN_PACKAGES, installLine } from './debian-packages.js';

const missing = DEBIAN_PACKAGES.filter((p) => !p.present());
if (missing.length === 0) process.exit(0);

const line = installLine(missing.map((p) => p.name));
const what = missing.map((p) => `  ${p.name} (${p.where}), for ${p.neededBy}`).join('\n');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

if (!isRoot) {
  const ci = process.env.CI === 'true';
  process.stderr.write(
    `${ci ? 'The tests need' : 'Warning: the tests need'} these Debian packages and they are missing:\n${what}\n` +
      `Install them as root, then run the tests again:\n  sudo sh -c '${line}'\n` +
      (ci ? '' : 'Going on: the tests that need them will fail (under CI=true this step stops the run).\n'),
  );
  process.exit(ci ? 1 : 0);
}

process.stderr.write(`Missing Debian packages:\n${what}\nInstalling them: ${line}\n`);
const run = spawnSync('sh', ['-c', line], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
const still = missing.filter((p) => !p.present());
if (still.length > 0) {
  process.stderr.write(
    `Installing failed (apt-get exit ${run.status ?? run.signal}); still missing: ${still.map((p) => p.name).join(', ')}. ` +
      'The tests cannot run without them.\n',
  );
  process.exit(1);
}
process.stderr.write(`Installed ${missing.map((p) => p.name).join(', ')}\n`);
