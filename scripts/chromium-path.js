// The browser the page tests drive: Debian's chromium package (the machine
// cannot download a browser build of its own). One place for the path and
// the install line, shared by the tests and scripts/ensure-chromium.js.
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const CHROMIUM_INSTALL = 'apt-get update && apt-get install -y chromium';
