import { describe, expect, it } from 'vitest';
import { deobfuscatePassword, obfuscatePassword } from '../../src/irods/admin/password-obfuscation.js';
import { IrodsError } from '../../src/irods/wire/irods-error.js';
import { mulberry32 } from '../support/prng.js';
import { python } from './admin-support.js';

// a printable ASCII password, 1 to 42 characters: what a server accepts through this API
function randomPassword(next: () => number, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += String.fromCharCode(0x21 + Math.floor(next() * 94));
  return s;
}

function cases(seed: number, n: number): Array<[newPassword: string, current: string, signature: string]> {
  const gen = mulberry32(seed);
  const next = () => gen() / 2 ** 32;
  return Array.from({ length: n }, (_, i) => [
    randomPassword(next, 1 + (i % 42)),
    randomPassword(next, 1 + Math.floor(next() * 50)),
    Array.from({ length: 16 }, () => Math.floor(next() * 256).toString(16).padStart(2, '0')).join(''),
  ]);
}

const errorOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    if (err instanceof IrodsError) return err.codeName;
    throw err;
  }
  throw new Error('expected an iRODS error');
};

// python-irodsclient 0.8.1's own function, as its user manager calls it for `modify user NAME password`
const PY_OBFUSCATE = `
import sys, json
from irods.password_obfuscation import obfuscate_new_password
print(json.dumps([obfuscate_new_password(n, o, s) for n, o, s in json.load(sys.stdin)]))
`;
// its V2 inverse from the same module's parts: the key scramble_v2 derives, unscrambled with block chaining
const PY_UNDO = `
import sys, json, hashlib
from irods.password_obfuscation import unscramble
out = []
for text, old, sig in json.load(sys.stdin):
    key = '{:\\x00<100}'.format(old[:90] + sig[:100])
    out.append(unscramble(text, key=hashlib.md5(key.encode('utf-8')).hexdigest(), scramble_prefix='', block_chaining=True))
print(json.dumps(out))
`;

describe('password obfuscation of modify user password', () => {
  it('undoes what python-irodsclient 0.8.1 obfuscates, for passwords of every accepted length', () => {
    const all = cases(15, 126);
    // the client picks a random first character each time: several rounds
    for (let round = 0; round < 3; round++) {
      const sent = python<string[]>(PY_OBFUSCATE, all);
      sent.forEach((text, i) => expect(deobfuscatePassword(text, all[i]![1], all[i]![2])).toBe(all[i]![0]));
    }
  });

  it('obfuscates as python-irodsclient does: its inverse reads ours', () => {
    const all = cases(16, 42);
    const ours = all.map(([n, o, s]) => obfuscatePassword(n, o, s, 'q'));
    const undone = python<string[]>(PY_UNDO, all.map(([, o, s], i) => [ours[i], o, s]));
    undone.forEach((plain, i) => {
      expect(plain.slice(0, 7)).toBe('q.ObfV2');
      expect(plain.slice(7).startsWith(all[i]![0])).toBe(true);
    });
  });

  it('round-trips its own obfuscation, the password test suite one included', () => {
    const horrible = 'abc123!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~Z';
    for (const [n, o, s] of [[horrible, 'rods', 'ab'.repeat(16)], ...cases(17, 42)] as const) {
      expect(deobfuscatePassword(obfuscatePassword(n, o, s), o, s)).toBe(n);
    }
  });

  it('pads short passwords and cuts the padding off again', () => {
    const text = obfuscatePassword('pw', 'rods', 'cd'.repeat(16));
    expect(text.length).toBe(7 + 2 + 38);
    expect(deobfuscatePassword(text, 'rods', 'cd'.repeat(16))).toBe('pw');
  });

  it('survives an XML reader trimming a whitespace first character', () => {
    const text = obfuscatePassword('secret', 'rods', 'ef'.repeat(16), ' ');
    expect(text.startsWith(' ')).toBe(true);
    expect(deobfuscatePassword(text.trimStart(), 'rods', 'ef'.repeat(16))).toBe('secret');
  });

  it('refuses another key, non-ASCII text and over-long passwords with the codes iRODS answers', () => {
    const sig = '01'.repeat(16);
    const text = obfuscatePassword('secret', 'rods', sig);
    expect(errorOf(() => deobfuscatePassword(text, 'not-rods', sig))).toBe('CAT_PASSWORD_ENCODING_ERROR');
    expect(errorOf(() => deobfuscatePassword(text, 'rods', '02'.repeat(16)))).toBe('CAT_PASSWORD_ENCODING_ERROR');
    expect(errorOf(() => deobfuscatePassword(obfuscatePassword('pässword', 'rods', sig), 'rods', sig))).toBe('CAT_PASSWORD_ENCODING_ERROR');
    expect(errorOf(() => deobfuscatePassword(obfuscatePassword('x'.repeat(43), 'rods', sig), 'rods', sig))).toBe('PASSWORD_EXCEEDS_MAX_SIZE');
    expect(deobfuscatePassword(obfuscatePassword('x'.repeat(42), 'rods', sig), 'rods', sig)).toBe('x'.repeat(42));
  });
});
