/**
 * Helpers for the metadata, access and admin handler tests: bodies shaped as
 * python-irodsclient 0.8.1 packs them and the reference client's own Python
 * functions. (Contexts, calls and iRODS errors: support/handler-context.ts.)
 */
import { execFileSync } from 'node:child_process';
import type { PiNode } from '../../src/irods/wire/pi-values.js';
import { PYTHON } from './support/wire-server.js';

/** `arg0`…`argN` of a `*_PI` whose fields are numbered arguments; empty ones left out, as python-irodsclient's MetadataRequest does. */
export function args(...values: string[]): PiNode {
  const node: PiNode = {};
  values.forEach((v, i) => {
    if (v !== '') node[`arg${i}`] = v;
  });
  return node;
}

/** Runs a Python snippet with JSON on standard input and parses the JSON it prints. */
export function python<T>(script: string, input: unknown): T {
  return JSON.parse(execFileSync(PYTHON, ['-c', script], { input: JSON.stringify(input) }).toString()) as T;
}
