/**
 * iRODS native authentication, the server's side (iRODS 4.3.5
 * `plugins/auth_legacy/src/native.cpp`, `db_plugin.cpp` `db_check_auth_op`):
 * `AUTH_REQUEST_AN` (703) answers a 64-byte challenge; `AUTH_RESPONSE_AN`
 * (704) carries MD5(challenge ‖ password zero-padded to 50 bytes) with every
 * 0x00 byte of the digest turned into 0x01, and the user's name.
 *
 * The challenge is 64 lower-case hex characters, as iRODS makes it
 * (`get64RandomBytes`: 32 random bytes in hex): python-irodsclient 0.8.1
 * `.strip()`s the challenge before hashing it, so a challenge must neither
 * start nor end with whitespace, and C clients treat it as a string, so it
 * must hold no NUL. The first 16 bytes, in hex, are the session's "client
 * signature", the key a client obfuscates a new password with.
 *
 * @module
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { EmbeddedStore } from '../../store/embedded/store.js';
import type { UserType } from '../../store/types.js';
import type { SessionUser } from './api.js';
import { IrodsError } from '../wire/irods-error.js';
import { text, type PiMessage, type PiNode } from '../wire/pi-values.js';

/** iRODS 4.3.5 `apiNumberData.h`. */
export const AUTH_REQUEST_AN = 703;
/** iRODS 4.3.5 `apiNumberData.h`. */
export const AUTH_RESPONSE_AN = 704;

/** iRODS `CHALLENGE_LEN`, `MAX_PASSWORD_LEN`, `RESPONSE_LEN` (`authenticate.h`). */
const CHALLENGE_LEN = 64;
const MAX_PASSWORD_LEN = 50;
const RESPONSE_LEN = 16;

/** A fresh challenge: 64 hex characters (never whitespace, never NUL). */
export function newChallenge(): Buffer {
  return Buffer.from(randomBytes(CHALLENGE_LEN / 2).toString('hex'), 'ascii');
}

/** The `authRequestOut_PI` reply carrying the challenge. */
export function challengeReply(challenge: Buffer): PiMessage {
  return { name: 'authRequestOut_PI', fields: { challenge } };
}

/** Hex of the challenge's first 16 bytes (python-irodsclient 0.8.1 `Connection.client_signature`). */
export function clientSignatureOf(challenge: Buffer): string {
  return challenge.subarray(0, 16).toString('hex');
}

/** The response a client holding `password` sends for `challenge`. */
export function expectedResponse(challenge: Buffer, password: string): Buffer {
  const buf = Buffer.alloc(CHALLENGE_LEN + MAX_PASSWORD_LEN);
  challenge.copy(buf, 0, 0, CHALLENGE_LEN);
  // iRODS copies the password as a C string: up to its first NUL, at most 50 bytes
  const pw = Buffer.from(password, 'utf8');
  const end = Math.min(pw.includes(0) ? pw.indexOf(0) : pw.length, MAX_PASSWORD_LEN);
  pw.copy(buf, CHALLENGE_LEN, 0, end);
  const digest = createHash('md5').update(buf).digest();
  for (let i = 0; i < digest.length; i++) if (digest[i] === 0) digest[i] = 1;
  return digest;
}

/** Why a login failed, for the server's log (the client is told only that it failed). */
export type LoginFailure = 'unknown user' | 'no password' | 'wrong password' | 'other zone' | 'malformed response';

/** Thrown for a failed login; the client gets `CAT_INVALID_AUTHENTICATION` whatever the reason. */
export class LoginError extends IrodsError {
  constructor(
    readonly user: string,
    readonly reason: LoginFailure,
  ) {
    super('CAT_INVALID_AUTHENTICATION', 'authentication failed: wrong user name or password');
    this.name = 'LoginError';
  }
}

/** A password to hash when the user has none, so a failed login costs the same either way. */
const NO_PASSWORD = randomBytes(24).toString('base64');

/**
 * Checks an `authResponseInp_PI` (`response` base64, `username` as `name`
 * or `name#zone`) against the challenge. Returns the authenticated user;
 * throws {@link LoginError} for anything else. An unknown user, a user
 * without a password and a wrong password all get the same answer
 * (`CAT_INVALID_AUTHENTICATION`; iRODS itself says `CAT_INVALID_USER` for
 * the first two, which tells a stranger which names exist).
 */
export function checkResponse(store: EmbeddedStore, challenge: Buffer, body: PiNode | null): SessionUser {
  let response: Buffer;
  let username: string;
  try {
    response = Buffer.from(text(body, 'response'), 'base64');
    username = text(body, 'username');
  } catch {
    throw new LoginError('', 'malformed response');
  }
  const hash = username.indexOf('#');
  const name = hash < 0 ? username : username.slice(0, hash);
  const zone = hash < 0 ? '' : username.slice(hash + 1);
  if (zone !== '' && zone !== store.zone) throw new LoginError(username, 'other zone');
  // one read transaction for both lookups (each alone would take the catalog's locks)
  const core = store.protocolCore();
  const { principal, password } = core.read(() => {
    const principal = core.q.principal.get(name);
    return { principal, password: principal?.kind === 'user' ? store.passwordOf(name) : null };
  });
  const expected = expectedResponse(challenge, password ?? NO_PASSWORD);
  // python-irodsclient sends exactly the 16 digest bytes; compare those in constant time
  const given = response.length >= RESPONSE_LEN ? response.subarray(0, RESPONSE_LEN) : Buffer.alloc(RESPONSE_LEN);
  const match = timingSafeEqual(given, expected) && response.length >= RESPONSE_LEN;
  if (!principal || principal.kind !== 'user') throw new LoginError(name, 'unknown user');
  if (password === null) throw new LoginError(name, 'no password');
  if (!match) throw new LoginError(name, 'wrong password');
  return { name, type: (principal.user_type ?? 'rodsuser') as UserType, zone: store.zone };
}

/**
 * Slows failed logins down server-wide, as iRODS does after repeated
 * failures (`db_check_auth_op` sleeps once failures pile up): each failure
 * of the last minute delays the next failure's answer by 100 ms more, up to
 * 2 s. A right password is never delayed.
 */
export class LoginThrottle {
  private readonly failures: number[] = [];

  /** How long to hold back the answer to a failed login now. */
  delayMs(now = Date.now()): number {
    while (this.failures.length > 0 && now - this.failures[0]! > 60_000) this.failures.shift();
    return Math.min(2000, this.failures.length * 100);
  }

  /** Counts a failure. */
  failed(now = Date.now()): void {
    this.failures.push(now);
    if (this.failures.length > 100) this.failures.shift();
  }
}
