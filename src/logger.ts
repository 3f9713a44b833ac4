import { pino, type Logger } from 'pino';

export type { Logger };

// Paths where a secret could appear if someone logs a request or an input.
const REDACT = [
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  '*.password',
  '*.token',
  '*.secret',
  '*.clientSecret',
  'headers[*].value',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = { level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'mcp-federation' } };
  // Synchronous stdout by default: nothing is lost when the process exits.
  return destination ? pino(options, destination) : pino(options);
}
