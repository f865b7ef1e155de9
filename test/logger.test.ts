/**
 * The log's redaction rules (src/logger.ts), shared by the service, the
 * protocol server and the site: credentials are replaced wherever the
 * programs' lines carry them, and a request's target keeps its path.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger, redactRequestUrl } from '../src/logger.js';

/** A logger at info writing into the returned array of parsed lines. */
function captured(): { log: ReturnType<typeof createLogger>; lines: Record<string, any>[] } {
  const lines: Record<string, any>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { log: createLogger(loadConfig({ TASKFLOW_LOG_LEVEL: 'info' }), sink, 'site'), lines };
}

describe('createLogger', () => {
  it('redacts credentials in fields, bodies and headers, and keeps the rest', async () => {
    const { log, lines } = captured();
    log.info(
      {
        sodar_secret: 's-1',
        body: { password: 'p-1', token: 't-1', title: 'kept' },
        err: { headers: { authorization: 'Token t-2', cookie: 'sodar_session=c-1', 'x-taskflow-secret': 's-2' } },
        headers: { 'set-cookie': 'sodar_session=c-2', accept: 'text/html' },
      },
      'line',
    );
    await new Promise((r) => setImmediate(r));
    const text = JSON.stringify(lines);
    for (const secret of ['s-1', 's-2', 'p-1', 't-1', 't-2', 'c-1', 'c-2']) expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({ name: 'site', msg: 'line', body: { password: '[redacted]', title: 'kept' }, headers: { accept: 'text/html' } });
  });

  it("logs a request's target with the values of secret-named parameters replaced", async () => {
    const { log, lines } = captured();
    log.info({ req: { method: 'GET', url: '/project/api/list?token=t-3', host: 'site', ip: '127.0.0.1', socket: { remotePort: 4000 } } }, 'incoming request');
    await new Promise((r) => setImmediate(r));
    expect(lines[0].req).toEqual({ method: 'GET', url: '/project/api/list?token=[redacted]', host: 'site', remoteAddress: '127.0.0.1', remotePort: 4000 });
  });
});

describe('redactRequestUrl', () => {
  it.each([
    ['/project/x', '/project/x'],
    ['/project/x?page=2&next=%2F', '/project/x?page=2&next=%2F'],
    ['/a?page=1&token=abc&b', '/a?page=1&token=[redacted]&b'],
    ['/a?Sodar_Secret=abc', '/a?Sodar_Secret=[redacted]'],
    ['/a?new%5Fpassword=abc&access_token=def', '/a?new%5Fpassword=[redacted]&access_token=[redacted]'],
    ['/a?authorization=Token%20abc&cookie=x', '/a?authorization=[redacted]&cookie=[redacted]'],
    ['/a?token', '/a?token=[redacted]'],
    ['/a?%zz=1&secret=x', '/a?%zz=1&secret=[redacted]'],
  ])('%s → %s', (url, logged) => {
    expect(redactRequestUrl(url)).toBe(logged);
  });
});
