/** Path of the Chromium the page tests drive (CHROMIUM_PATH, default /usr/bin/chromium). */
export declare const CHROMIUM_PATH: string;
/** The interpreter that owns Debian's python3-irodsclient (IRODS_CLIENT_PYTHON, default /usr/bin/python3). */
export declare const IRODS_CLIENT_PYTHON: string;
/** A Debian package the tests need. */
export interface DebianPackage {
  /** The Debian package name. */
  readonly name: string;
  /** Which tests need it, for messages. */
  readonly neededBy: string;
  /** Where the tests look for it, for messages. */
  readonly where: string;
  /** Whether it is there now. */
  present(): boolean;
}
/** Every Debian package the tests need. */
export declare const DEBIAN_PACKAGES: readonly DebianPackage[];
/** The line that installs `packages` as root. */
export declare function installLine(packages: readonly string[]): string;
/** The package entry named `name` (throws for a name not in the list). */
export declare function debianPackage(name: string): DebianPackage;
/** The message a test fails with when `name` is missing: what to run as root. */
export declare function missingPackageMessage(name: string): string;
