import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

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

export type LogFormat = 'json' | 'pretty';

/**
 * `pretty` formats each line for a person (pino-pretty, in this process and
 * synchronously, so nothing is lost at exit); redaction happens before either
 * format sees the line.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream, format: LogFormat = 'json'): Logger {
  const options = { level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'mcp-federation' } };
  if (format === 'pretty') {
    const out = destination ?? process.stdout;
    return pino(options, pretty({ destination: out, sync: true, colorize: (out as { isTTY?: boolean }).isTTY === true, ignore: 'pid,hostname' }));
  }
  // Synchronous stdout by default: nothing is lost when the process exits.
  return destination ? pino(options, destination) : pino(options);
}
