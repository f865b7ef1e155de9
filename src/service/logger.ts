/**
 * The service's structured log (pino). The shared secret is never logged:
 * the service logs chosen fields only, and any secret-bearing key that slips
 * in anyway is redacted.
 *
 * @module
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from '../config.js';

/** Keys whose values never reach the log. */
export const REDACTED_PATHS = [
  'sodar_secret',
  'secret',
  '*.sodar_secret',
  '*.secret',
  'req.headers["x-taskflow-secret"]',
  'headers["x-taskflow-secret"]',
];

/** A logger at `config.logLevel`, writing to `destination` (stdout by default). */
export function createLogger(config: Config, destination?: DestinationStream): Logger {
  const options = {
    level: config.logLevel,
    base: { name: 'taskflow' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}
