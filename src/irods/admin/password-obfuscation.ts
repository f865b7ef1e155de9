/**
 * The obfuscation a client applies to a new password it sends with
 * `GENERAL_ADMIN_AN` (`modify user NAME password X`), and its inverse, which
 * the server applies before storing the password. Facts from iRODS 4.3.5
 * `lib/core/src/obf.cpp` (`obfEncodeByKeyV2`, `obfDecodeByKeyV2`,
 * `obfDecodeByKey`, `obfGetMD5Hash`) and `plugins/database/src/db_plugin.cpp`
 * (`decodePw`, `db_mod_user_op`), and from python-irodsclient 0.8.1
 * `password_obfuscation.obfuscate_new_password`, which this module answers.
 *
 * The scheme: the plain text is one random character, the marker `.ObfV2`,
 * the new password and, for a short password, a fixed padding that hides its
 * length. The key is the MD5 (as hex) of the caller's current password (at
 * most 90 bytes) followed by the connection's client signature (the hex of
 * the first 16 bytes of its authentication challenge), cut or padded with
 * NULs to 100 bytes. From that key come 61 key bytes: an MD5 of the key
 * padded to 100 bytes, the MD5 of that digest, and the MD5 of both digests,
 * twice.
 * Each character of a 77-character wheel (digits, upper and lower case
 * letters, `!` to `/`) is turned forward on the wheel by its key byte plus
 * the previous obfuscated character's code (cipher block chaining); any
 * other character is left as it is and leaves the chain unchanged, while
 * the key position still moves on. This is obfuscation, not encryption:
 * anyone who saw the caller's password and the challenge can undo it.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { IrodsError } from '../wire/irods-error.js';

/** iRODS's `MAX_PASSWORD_LEN` (`rodsDef.h`): the byte length passwords are padded to. */
export const MAX_PASSWORD_LEN = 50;
/** The longest new password a server accepts through this API (4.3.5 `db_mod_user_op`: `MAX_PASSWORD_LEN - 8`). */
export const MAX_NEW_PASSWORD_LEN = MAX_PASSWORD_LEN - 8;

const WHEEL = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!"#$%&\'()*+,-./';
const WHEEL_INDEX = new Map([...WHEEL].map((c, i) => [c.charCodeAt(0), i]));
/** The marker after the random first character; a decoding whose marker differs used another key. */
const V2_MARKER = '.ObfV2';
/**
 * The padding clients append to passwords shorter than 25 characters
 * (iRODS 4.3.5 `iadmin.cpp`; python-irodsclient 0.8.1 `obfuscate_new_password`);
 * the server cuts the password where its first 16 characters begin (`decodePw`).
 */
const PADDING = '1gCBizHWbwIYyWLoysGzTe6SyzqFKMniZX05faZHWAwQKXf6Fs';
const PADDING_MARK = PADDING.slice(0, 16);
/** Key bytes used before the key position wraps (`obfDecodeByKey` resets after 61). */
const KEY_CYCLE = 61;

const md5 = (data: Buffer): Buffer => createHash('md5').update(data).digest();

/** A C string of at most `size` bytes, NUL padded: what iRODS copies into its fixed key buffers. */
function fixed(bytes: Buffer, size: number): Buffer {
  const out = Buffer.alloc(size);
  bytes.copy(out, 0, 0, Math.min(bytes.length, size));
  return out;
}

/** The 61 key bytes for a caller's current password and the connection's client signature. */
function keyBytes(currentPassword: string, signature: string): Buffer {
  const joined = Buffer.concat([Buffer.from(currentPassword, 'utf8').subarray(0, 90), Buffer.from(signature, 'utf8').subarray(0, 100)]);
  const hexKey = Buffer.from(md5(fixed(joined, 100)).toString('hex'), 'latin1');
  const first = md5(fixed(hexKey, 100));
  const second = md5(first);
  const third = md5(Buffer.concat([first, second]));
  // obf.cpp hashes the two first digests twice over: the third block comes again
  return Buffer.concat([first, second, third, third]).subarray(0, KEY_CYCLE);
}

/** Turns each wheel character of `text` by the key (forward: +1, back: -1), chaining on the obfuscated text. */
function turn(text: string, key: Buffer, direction: 1 | -1): string {
  let chain = 0;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const w = WHEEL_INDEX.get(code);
    if (w === undefined) {
      out += text[i];
      continue;
    }
    const turned = WHEEL[(((w + direction * (key[i % KEY_CYCLE]! + chain)) % WHEEL.length) + WHEEL.length) % WHEEL.length]!;
    out += turned;
    // the chain follows the obfuscated character: the output when obfuscating, the input when undoing
    chain = direction === 1 ? turned.charCodeAt(0) : code;
  }
  return out;
}

/**
 * Obfuscates `newPassword` as a client does for `modify user NAME password`:
 * the inverse of {@link deobfuscatePassword}. `random` is the throw-away
 * first character (a random printable character in real clients).
 */
export function obfuscatePassword(newPassword: string, currentPassword: string, signature: string, random = 'x'): string {
  let plain = newPassword.slice(0, MAX_PASSWORD_LEN);
  const padding = MAX_PASSWORD_LEN - 10 - newPassword.length;
  if (padding > 15) plain += PADDING.slice(0, padding);
  return turn(random.slice(0, 1) + V2_MARKER + plain.slice(0, 150), keyBytes(currentPassword, signature), 1);
}

/**
 * The new password a client sent obfuscated with `modify user NAME
 * password`, undone with the caller's current password (`currentPassword`,
 * the one the caller logged in with) and the connection's client signature.
 * Throws `CAT_PASSWORD_ENCODING_ERROR` when the text was not obfuscated with
 * that key (the client used another password or connection) or holds
 * characters outside ASCII, and `PASSWORD_EXCEEDS_MAX_SIZE` for a password
 * over {@link MAX_NEW_PASSWORD_LEN} characters, as iRODS 4.3.5 does.
 */
export function deobfuscatePassword(obfuscated: string, currentPassword: string, signature: string): string {
  // iCommands turn bytes and python-irodsclient 0.8.1 turns characters: for
  // anything beyond ASCII the two disagree, so which password was meant is unknowable
  if (/[^\x00-\x7f]/.test(obfuscated)) {
    throw new IrodsError(
      'CAT_PASSWORD_ENCODING_ERROR',
      'an obfuscated password must be ASCII (clients obfuscate other characters differently); set it with `taskflow store user passwd` instead',
    );
  }
  const key = keyBytes(currentPassword, signature);
  let plain = turn(obfuscated, key, -1);
  if (!hasMarker(plain)) {
    // python-irodsclient picks the random first character from string.printable,
    // whitespace included, which an XML reader may have trimmed: it never
    // joins the chain, so putting a stand-in back restores the key positions
    const retried = turn(` ${obfuscated}`, key, -1);
    if (!hasMarker(retried)) {
      throw new IrodsError(
        'CAT_PASSWORD_ENCODING_ERROR',
        'the new password was not obfuscated with your current password and this connection: log in again with your current password and retry',
      );
    }
    plain = retried;
  }
  const padded = plain.slice(1 + V2_MARKER.length, 1 + V2_MARKER.length + MAX_PASSWORD_LEN);
  const mark = padded.indexOf(PADDING_MARK);
  const password = mark >= 0 ? padded.slice(0, mark) : padded;
  if (password.length > MAX_NEW_PASSWORD_LEN) {
    throw new IrodsError('PASSWORD_EXCEEDS_MAX_SIZE', `a password may have at most ${MAX_NEW_PASSWORD_LEN} characters`);
  }
  return password;
}

function hasMarker(plain: string): boolean {
  return plain.slice(1, 1 + V2_MARKER.length) === V2_MARKER;
}
