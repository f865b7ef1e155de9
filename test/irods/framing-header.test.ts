/**
 * Message headers read by the one-expression path (the shapes clients
 * write) and by the XML decoder (everything else) alike: the same header
 * values, the same refusals.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_FRAME_LIMITS, encodeHeader, FramingError, parseHeader } from '../../src/irods/wire/framing.js';

const parse = (xml: string) => parseHeader(Buffer.from(xml, 'utf8'), DEFAULT_FRAME_LIMITS);
const refusal = (xml: string): string => {
  try {
    parse(xml);
  } catch (err) {
    if (err instanceof FramingError) return err.codeName;
    throw err;
  }
  throw new Error(`accepted: ${xml}`);
};
const fields = (type: string, msgLen: string, errorLen: string, bsLen: string, intInfo: string, sep = '') =>
  `<MsgHeader_PI>${sep}<type>${type}</type>${sep}<msgLen>${msgLen}</msgLen>${sep}<errorLen>${errorLen}</errorLen>${sep}<bsLen>${bsLen}</bsLen>${sep}<intInfo>${intInfo}</intInfo>${sep}</MsgHeader_PI>${sep}`;

describe('message headers', () => {
  it('reads the shapes clients write: python-irodsclient 0.8.1, C clients with newlines, this server', () => {
    const want = { type: 'RODS_API_REQ', msgLen: 312, errorLen: 0, bsLen: 8388608, intInfo: 676 };
    expect(parse(fields('RODS_API_REQ', '312', '0', '8388608', '676'))).toEqual(want);
    expect(parse(fields('RODS_API_REQ', '312', '0', '8388608', '676', '\n'))).toEqual(want);
    expect(parse(encodeHeader(want).subarray(4).toString())).toEqual(want);
    expect(parse(fields('RODS_API_REPLY', '0', '0', '0', '-808000'))).toMatchObject({ intInfo: -808000 });
  });

  it('reads other well-formed headers through the XML decoder, with the same values', () => {
    expect(parse(fields('RODS_API_REQ', ' 12 ', '0', '0', '1', '  '))).toEqual({ type: 'RODS_API_REQ', msgLen: 12, errorLen: 0, bsLen: 0, intInfo: 1 });
    expect(parse(`<MsgHeader_PI><intInfo>5</intInfo><type>X&amp;Y</type><msgLen>1</msgLen><errorLen>0</errorLen><bsLen>0</bsLen></MsgHeader_PI>`)).toEqual({
      type: 'X&Y',
      msgLen: 1,
      errorLen: 0,
      bsLen: 0,
      intInfo: 5,
    });
  });

  it('refuses what it refused before, whichever path reads it', () => {
    expect(refusal(fields('RODS_API_REQ', '-1', '0', '0', '0'))).toBe('SYS_HEADER_READ_LEN_ERR');
    expect(refusal(fields('RODS_API_REQ', '99999999999', '0', '0', '0'))).toBe('SYS_HEADER_READ_LEN_ERR');
    expect(refusal(fields('RODS_API_REQ', '1e9', '0', '0', '0'))).toBe('SYS_HEADER_READ_LEN_ERR');
    expect(refusal(fields('', '0', '0', '0', '0'))).toBe('SYS_HEADER_TPYE_LEN_ERR');
    expect(refusal(fields('T'.repeat(129), '0', '0', '0', '0'))).toBe('SYS_HEADER_TPYE_LEN_ERR');
    expect(refusal(fields('RODS_API_REQ', '0', '0', String(65 * 1024 * 1024), '0'))).toBe('SYS_READ_MSG_BODY_LEN_ERR');
    expect(refusal(fields('RODS_API_REQ', String(17 * 1024 * 1024), '0', '0', '0'))).toBe('SYS_READ_MSG_BODY_LEN_ERR');
    expect(refusal('<Other_PI><type>X</type></Other_PI>')).toBe('SYS_HEADER_READ_LEN_ERR');
    expect(refusal('<MsgHeader_PI><type>X</type>')).toBe('SYS_HEADER_READ_LEN_ERR');
  });
});
