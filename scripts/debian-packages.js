// The Debian packages the tests drive, one place for each: where the test
// finds it, how it checks that it is there, and the install line. The
// machine cannot download browser builds or Python wheels of its own, so the
// tests use what Debian packages. Shared by scripts/ensure-debian-packages.js
// (npm test's first step) and the tests themselves.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The Chromium the page tests drive (CHROMIUM_PATH, default Debian's /usr/bin/chromium). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/**
 * The Python interpreter that owns Debian's python3-irodsclient
 * (IRODS_CLIENT_PYTHON, default /usr/bin/python3). Debian installs its
 * Python modules for its own interpreter only: the python3 first on PATH may
 * be another one (pyenv's) that cannot import them.
 */
export const IRODS_CLIENT_PYTHON = process.env.IRODS_CLIENT_PYTHON || '/usr/bin/python3';

/** The line that installs `packages` as root. */
export function installLine(packages) {
  return `apt-get update && apt-get install -y ${packages.join(' ')}`;
}

/** Every Debian package the tests need, with what needs it and how to tell it is there. */
export const DEBIAN_PACKAGES = [
  {
    name: 'chromium',
    neededBy: 'the page tests',
    where: CHROMIUM_PATH,
    present: () => existsSync(CHROMIUM_PATH),
  },
  {
    name: 'python3-irodsclient',
    neededBy: 'the iRODS protocol tests (its client and its own test suite)',
    where: `${IRODS_CLIENT_PYTHON} -c 'import irods'`,
    present: () => spawnSync(IRODS_CLIENT_PYTHON, ['-c', 'import irods'], { stdio: 'ignore' }).status === 0,
  },
];

/** The package entry named `name` (throws for a name not in the list). */
export function debianPackage(name) {
  const p = DEBIAN_PACKAGES.find((d) => d.name === name);
  if (!p) throw new Error(`no Debian package entry named ${name}`);
  return p;
}

/**
 * The message for a test that finds `name` missing: what to run as root.
 * Tests fail with it (never skip), so a run without the package cannot pass.
 */
export function missingPackageMessage(name) {
  const p = debianPackage(name);
  return `${p.neededBy} need Debian's ${p.name} (${p.where}) and it is missing: run as root  ${installLine([p.name])}`;
}
