/**
 * Client-server negotiation (`CS_NEG`), the server's side (iRODS 4.3.5
 * `server/core/src/irods_server_negotiation.cpp`, `rodsAgent.cpp`;
 * python-irodsclient 0.8.1 `client_server_negotiation.py`, `connection.py`).
 *
 * A client whose startup pack's `option` holds `request_server_negotiation`
 * gets a `CS_NEG_PI` with the server's policy (`CS_NEG_REFUSE`,
 * `CS_NEG_DONT_CARE`, `CS_NEG_REQUIRE`) and answers with its own
 * `CS_NEG_PI` whose result is `cs_neg_result_kw=CS_NEG_USE_SSL;` or
 * `…USE_TCP;` (`status` 1 on success). Then the server sends its version,
 * and with TLS agreed both sides start TLS on the same socket; the client
 * then sends a header-only message with its encryption settings (`type`
 * the algorithm, `msgLen` the key size, `errorLen` the salt size, `bsLen`
 * the hash rounds) and a `SHARED_SECRET` message with the key for parallel
 * transfers, which this server reads and drops: it serves no parallel
 * transfer.
 *
 * @module
 */
import { text, int, type PiMessage, type PiNode } from '../wire/pi-values.js';

/** What the server does about TLS: no TLS, TLS when the client wants it, TLS or nothing. */
export type TlsPolicy = 'refuse' | 'allow' | 'require';

/** The option word asking for a negotiation (iRODS `REQUEST_NEGOTIATION`). */
export const REQUEST_NEGOTIATION = 'request_server_negotiation';

/** iRODS `CS_NEG_STATUS_SUCCESS`. */
const CS_NEG_STATUS_SUCCESS = 1;

/**
 * iRODS 4.3.5 `SERVER_NEGOTIATION_ERROR` (`rodsErrorTable.h`): the status of
 * a version reply refusing a connection for its TLS terms. Sent only as that
 * status, which python-irodsclient 0.8.1 does not raise (it does not know the code).
 */
export const SERVER_NEGOTIATION_ERROR = -1825000;

/** The policy word the server announces. */
export function policyWord(policy: TlsPolicy): string {
  return policy === 'require' ? 'CS_NEG_REQUIRE' : policy === 'allow' ? 'CS_NEG_DONT_CARE' : 'CS_NEG_REFUSE';
}

/** Whether a startup pack's option asks for a negotiation. */
export function wantsNegotiation(option: string): boolean {
  return option.includes(REQUEST_NEGOTIATION);
}

/** The server's first negotiation message. */
export function serverPolicyMessage(policy: TlsPolicy): PiMessage {
  return { name: 'CS_NEG_PI', fields: { status: CS_NEG_STATUS_SUCCESS, result: policyWord(policy) } };
}

/** The outcome of a negotiation: TLS, plain TCP, or a refusal with the reason. */
export type NegotiationOutcome = { use: 'tls' } | { use: 'tcp' } | { refuse: string };

/** The client's result word from its `CS_NEG_PI` result (`kw=value;` pairs, or a bare word as iRODS 4.0 sent). */
function resultWord(result: string): string {
  if (!result.includes('=')) return result.trim();
  for (const pair of result.split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === 'cs_neg_result_kw') return pair.slice(eq + 1).trim();
  }
  return '';
}

/** Decides from the client's answer, as iRODS 4.3.5 `client_server_negotiation_for_server` does, under `policy`. */
export function decide(policy: TlsPolicy, answer: PiNode | null): NegotiationOutcome {
  let status: number;
  let word: string;
  try {
    status = int(answer, 'status');
    word = resultWord(text(answer, 'result'));
  } catch {
    return { refuse: 'the client sent a malformed negotiation answer' };
  }
  if (status !== CS_NEG_STATUS_SUCCESS || word === 'CS_NEG_FAILURE') {
    return { refuse: `the client's TLS policy does not agree with this server's (${policyWord(policy)})` };
  }
  if (word === 'CS_NEG_USE_SSL') {
    return policy === 'refuse' ? { refuse: 'the client asked for TLS, which this server does not offer (no certificate configured)' } : { use: 'tls' };
  }
  if (word === 'CS_NEG_USE_TCP') {
    return policy === 'require' ? { refuse: 'this server requires TLS and the client asked for plain TCP' } : { use: 'tcp' };
  }
  return { refuse: `unknown negotiation result ${JSON.stringify(word.slice(0, 40))}` };
}

/** How a plaintext client is told this server requires TLS: what to set, in python-irodsclient's and iRODS's terms. */
export const TLS_REQUIRED_HINT =
  'this server requires TLS: set irods_client_server_negotiation to request_server_negotiation and irods_client_server_policy to CS_NEG_REQUIRE';
