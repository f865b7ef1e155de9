/**
 * Message headers read by the one-expression path (the shapes clients
 * write) and by the XML decoder (everything else) alike: the same header
 * values, the same refusals.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FRAME_LIMITS, encodeHeader, FramingError, MessageReader, parseHeader } from '../../src/irods/wire/framing.js';

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

  it('a reader reusing the parse of a repeated header still reads each message by its own bytes, and refuses a bad one after good ones', async () => {
    const stream = new PassThrough();
    const reader = new MessageReader(stream, DEFAULT_FRAME_LIMITS);
    const message = (msgLen: number, intInfo: number, body: string): Buffer => {
      const xml = Buffer.from(fields('RODS_API_REQ', String(msgLen), '0', '0', String(intInfo)));
      const len = Buffer.alloc(4);
      len.writeUInt32BE(xml.length);
      return Buffer.concat([len, xml, Buffer.from(body)]);
    };
    // the same header three times, then one differing in one digit of intInfo, then of msgLen
    stream.write(Buffer.concat([message(2, 674, 'ab'), message(2, 674, 'cd'), message(2, 674, 'ef'), message(2, 675, 'gh'), message(3, 675, 'ijk')]));
    const got: Array<[number, number, string]> = [];
    for (let i = 0; i < 5; i++) {
      const m = (await reader.next())!;
      got.push([m.header.intInfo, m.header.msgLen, m.body.toString()]);
    }
    expect(got).toEqual([
      [674, 2, 'ab'],
      [674, 2, 'cd'],
      [674, 2, 'ef'],
      [675, 2, 'gh'],
      [675, 3, 'ijk'],
    ]);
    const bad = Buffer.from(fields('RODS_API_REQ', '-1', '0', '0', '674'));
    const len = Buffer.alloc(4);
    len.writeUInt32BE(bad.length);
    stream.write(Buffer.concat([len, bad]));
    await expect(reader.next()).rejects.toMatchObject({ codeName: 'SYS_HEADER_READ_LEN_ERR' });
  });
});
