/**
 * JSON carried in a bytes buffer, as the APIs of iRODS's API plugins take
 * and answer it (4.2.9 to 4.3.5 `get_file_descriptor_info.cpp`,
 * `replica_close.cpp`: input and output `BinBytesBuf_PI`). A client sends
 * `BinBytesBuf_PI` (`buflen`, `buf` in base64) to a server of 4.2.9 or
 * later and `BytesBuf_PI` (`buf` as text) to an older one
 * (python-irodsclient 1.1.9 and 3.3.0 `JSON_Message`); both are read here.
 * Replies are `BinBytesBuf_PI`, which those clients decode from base64.
 *
 * @module
 */
import type { ApiRequest } from '../server/api.js';
import type { IrodsErrorName } from './error-codes.js';
import { IrodsError } from './irods-error.js';
import { text, type PiMessage } from './pi-values.js';

/**
 * The JSON object of a request's bytes buffer. `invalid` is what the API
 * answers for a body that is missing, empty or not a JSON object (each
 * plugin has its own code for that).
 */
export function jsonOfBytesBuf(req: ApiRequest, invalid: IrodsErrorName): Record<string, unknown> {
  let json: string;
  if (req.bodyName === 'BinBytesBuf_PI') json = Buffer.from(text(req.body, 'buf'), 'base64').toString('utf8');
  else if (req.bodyName === 'BytesBuf_PI') json = text(req.body, 'buf');
  else throw new IrodsError(invalid, `API ${req.api} takes JSON in BinBytesBuf_PI, not ${req.bodyName ?? 'an empty body'}`);
  // C strings: a client may count and send the terminating NUL
  json = json.replaceAll('\0', '');
  if (json.trim() === '') throw new IrodsError(invalid, `API ${req.api} needs a JSON object in its buffer; it was empty`);
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new IrodsError(invalid, `API ${req.api}: the buffer is not JSON (${(err as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new IrodsError(invalid, `API ${req.api} needs a JSON object in its buffer`);
  }
  return value as Record<string, unknown>;
}

/** `value` as JSON in a `BinBytesBuf_PI` reply. */
export function bytesBufReply(value: unknown): PiMessage {
  const buf = Buffer.from(JSON.stringify(value), 'utf8');
  return { name: 'BinBytesBuf_PI', fields: { buflen: buf.length, buf } };
}
