import { describe, expect, it } from 'vitest';
import { InvalidPathError } from '../../src/store/errors.js';
import {
  baseName,
  isInside,
  joinPath,
  normalizePath,
  parentPath,
  relativePath,
  validateName,
} from '../../src/store/paths.js';
import { mulberry32 } from '../support/prng.js';

const Z = 'omicsZone';

/** The rules of normalizePath written plainly (its first version): what its faster checks must agree with. */
function referenceNormalize(path: string, zone: string): string | null {
  if (path === '' || /[\u0000-\u001f\u007f-\u009f]/.test(path) || path.length > 2700 || !path.startsWith('/') || path === '/') return null;
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  const segments = trimmed.slice(1).split('/');
  if (segments.some((seg) => seg === '' || seg === '.' || seg === '..' || seg.length > 255)) return null;
  return segments[0] === zone ? trimmed : null;
}

describe('normalizePath', () => {
  it('accepts paths inside the zone and drops one trailing slash', () => {
    expect(normalizePath('/omicsZone', Z)).toBe('/omicsZone');
    expect(normalizePath('/omicsZone/', Z)).toBe('/omicsZone');
    expect(normalizePath('/omicsZone/projects/ab/x y.txt', Z)).toBe('/omicsZone/projects/ab/x y.txt');
    expect(normalizePath('/omicsZone/a/', Z)).toBe('/omicsZone/a');
    expect(normalizePath('/omicsZone/ünï/🧬.fq', Z)).toBe('/omicsZone/ünï/🧬.fq');
    expect(normalizePath('/omicsZone/a/...', Z)).toBe('/omicsZone/a/...');
  });

  const refused: Array<[string, RegExp]> = [
    ['', /empty path/],
    ['omicsZone/a', /not absolute/],
    ['/', /outside the zone/],
    ['/otherZone/a', /outside the zone/],
    ['/omicsZoneX/a', /outside the zone/],
    ['/omicsZone/../otherZone', /".." segment/],
    ['/omicsZone/a/..', /".." segment/],
    ['/omicsZone/a/../b', /".." segment/],
    ['/omicsZone/./a', /"\." segment/],
    ['/omicsZone/a/.', /"\." segment/],
    ['/omicsZone//a', /empty segment/],
    ['//omicsZone/a', /empty segment/],
    ['/omicsZone/a//', /empty segment/],
    ['/omicsZone/a\0b', /NUL/],
    ['/omicsZone/a\nb', /control character/],
    ['/omicsZone/a\rb', /control character/],
    ['/omicsZone/a\tb', /control character/],
    ['/omicsZone/a\u001bb', /control character/],
    ['/omicsZone/a\u007fb', /control character/],
    ['/omicsZone/a\u0085b', /control character/],
    [`/omicsZone/${'x'.repeat(256)}`, /longer than 255/],
    [`/omicsZone/${'abcdefghi/'.repeat(270)}`, /longer than 2700/],
  ];
  for (const [path, reason] of refused) {
    it(`refuses ${JSON.stringify(path).slice(0, 40)}`, () => {
      let caught: unknown;
      try {
        normalizePath(path, Z);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(InvalidPathError);
      const e = caught as InvalidPathError;
      expect(e.code).toBe('INVALID_PATH');
      expect(e.path).toBe(path);
      expect(e.message).toMatch(reason);
      expect(e.message).toContain(JSON.stringify(path).slice(1, 20));
    });
  }

  it('agrees with the plain statement of its rules on random paths', () => {
    const next = mulberry32(16);
    const pieces = ['/', '/', '/', 'a', 'b.c', '.', '..', Z, `${Z}x`, 'om', '\u0000', '\u001f', '\u007f', '\u0085', '\u00a0', 'ü', '🧬', 'x'.repeat(250)];
    let accepted = 0;
    for (let k = 0; k < 5000; k++) {
      let p = k % 2 === 0 ? `/${Z}` : '';
      const n = next() % 9;
      for (let i = 0; i < n; i++) p += pieces[next() % pieces.length];
      const want = referenceNormalize(p, Z);
      let got: string | null;
      try {
        got = normalizePath(p, Z);
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidPathError);
        got = null;
      }
      expect(got, JSON.stringify(p)).toBe(want);
      if (got !== null) accepted++;
    }
    // both outcomes are exercised
    expect(accepted).toBeGreaterThan(250);
    expect(accepted).toBeLessThan(4750);
  });

  it('accepts a segment of exactly 255 characters and a path at the limit', () => {
    expect(normalizePath(`/omicsZone/${'x'.repeat(255)}`, Z)).toHaveLength(11 + 255);
    const seg = 'y'.repeat(200);
    let p = '/omicsZone';
    while (p.length + 1 + seg.length <= 2700) p += `/${seg}`;
    expect(normalizePath(p, Z)).toBe(p);
  });
});

describe('path helpers', () => {
  it('parentPath and baseName', () => {
    expect(parentPath('/z/a/b')).toBe('/z/a');
    expect(parentPath('/z')).toBe('/');
    expect(baseName('/z/a/b.txt')).toBe('b.txt');
  });

  it('joinPath joins with single slashes', () => {
    expect(joinPath('/z/a/', '/b/', 'c')).toBe('/z/a/b/c');
    expect(joinPath('/z', 'b/c')).toBe('/z/b/c');
    expect(joinPath('/z', '')).toBe('/z');
    expect(joinPath('', 'a')).toBe('/a');
    expect(joinPath('/z//', '//', '//a//', 'b//')).toBe('/z/a/b//');
    expect(joinPath('/z/')).toBe('/z/');
    expect(joinPath('///', 'a')).toBe('/a');
  });

  it('isInside is strict and segment-aware', () => {
    expect(isInside('/z/a/b', '/z/a')).toBe(true);
    expect(isInside('/z/a', '/z/a')).toBe(false);
    expect(isInside('/z/ab', '/z/a')).toBe(false);
    expect(isInside('/z/a/b', '/z/a/')).toBe(true);
  });

  it('relativePath', () => {
    expect(relativePath('/z/a/b/c', '/z/a')).toBe('b/c');
    expect(relativePath('/z/a', '/z/a')).toBe('');
    expect(() => relativePath('/z/ab', '/z/a')).toThrow(InvalidPathError);
  });

  it('validateName refuses slashes, dots, controls and empties', () => {
    expect(validateName('alice')).toBe('alice');
    for (const bad of ['', 'a/b', '.', '..', 'a\nb', 'x'.repeat(256)]) {
      expect(() => validateName(bad)).toThrow(InvalidPathError);
    }
  });
});
