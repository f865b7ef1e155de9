/** Path of the Chromium the page tests drive (CHROMIUM_PATH, default /usr/bin/chromium). */
export declare const CHROMIUM_PATH: string;
/** The command that installs it, as root. */
export declare const CHROMIUM_INSTALL: string;
