/**
 * What an API takes with its request, and the refusal of a request that
 * brings something else. iRODS 4.2.12 `rsApiHandler.cpp` checks three things
 * against its API table (`apiTable.hpp`, and each API plugin's `apidef_t`)
 * before it unpacks a request, after the API number and the caller's
 * privilege: an input structure sent to an API that takes none, none sent
 * to one that takes one, and a byte stream sent to an API whose `inBsFlag`
 * is 0. Each is answered `SYS_API_INPUT_ERR` and the connection goes on.
 *
 * @module
 */
import type { RawMessage } from '../wire/framing.js';
import { IrodsError } from '../wire/irods-error.js';

/** An API's inputs as its table entry declares them: `inPackInstruct` not NULL (`struct`), `inBsFlag` 1 (`bytes`). */
export interface ApiInputs {
  readonly struct: boolean;
  readonly bytes: boolean;
}

/**
 * What nearly every API takes: one input structure and no byte stream. Of
 * the APIs this server answers, iRODS 4.2.12 declares otherwise only for
 * DATA_OBJ_WRITE_AN and DATA_OBJ_PUT_AN ({@link STRUCT_AND_BYTES}),
 * CLIENT_HINTS_AN and AUTH_REQUEST_AN ({@link NOTHING}). The API plugins
 * (touch, replica close, descriptor info, atomic metadata) take a
 * `BinBytesBuf_PI` structure and no stream.
 */
export const STRUCT_ONLY: ApiInputs = { struct: true, bytes: false };
/** A structure and the data after it: a write's or a small put's bytes. */
export const STRUCT_AND_BYTES: ApiInputs = { struct: true, bytes: true };
/** Neither: the request is its header alone. */
export const NOTHING: ApiInputs = { struct: false, bytes: false };

/** The refusal of `msg` for API `name`, which takes `inputs`; undefined when the request brings what the API takes. */
export function inputsRefusal(name: string, inputs: ApiInputs, msg: RawMessage): IrodsError | undefined {
  const { msgLen, bsLen } = msg.header;
  if (msgLen > 0 && !inputs.struct) return new IrodsError('SYS_API_INPUT_ERR', `${name} takes no input structure, but the request carried a ${msgLen}-byte one`);
  if (msgLen <= 0 && inputs.struct) return new IrodsError('SYS_API_INPUT_ERR', `${name} needs an input structure, but the request carried none`);
  if (bsLen > 0 && !inputs.bytes) return new IrodsError('SYS_API_INPUT_ERR', `${name} takes no byte stream, but the request carried ${bsLen} bytes after its structure`);
  return undefined;
}
