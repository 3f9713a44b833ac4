// LOG_FORMAT: JSON lines by default (for a log pipeline), readable lines with
// `pretty` (for a person), and secrets redacted in both.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, test } from 'vitest';
import { createLogger, type LogFormat } from '../../src/logger.js';
import { killAllMain, startMain } from '../helpers/process.js';

const START_TIMEOUT = 60_000;

function captured(format: LogFormat) {
  const lines: string[] = [];
  const logger = createLogger('info', new Writable({ write: (chunk, _encoding, done) => done(void lines.push(String(chunk))) }), format);
  return { logger, text: () => lines.join('') };
}

describe('LOG_FORMAT', () => {
  afterAll(killAllMain);

  test('json: one JSON object per line; pretty: a readable line with the level and the message; a secret is redacted in both', () => {
    for (const format of ['json', 'pretty'] as const) {
      const { logger, text } = captured(format);
      logger.info({ gatewayId: 'g-1', auth: { token: 'tok-s3cret-value' } }, 'registered gateway');
      const out = text();
      expect(out, format).toContain('registered gateway');
      expect(out, format).toContain('g-1');
      expect(out, format).not.toContain('tok-s3cret-value');
      expect(out, format).toContain('[redacted]');
      if (format === 'json') expect(JSON.parse(out.trim())).toMatchObject({ level: 30, msg: 'registered gateway', gatewayId: 'g-1' });
      else expect(() => JSON.parse(out.trim())).toThrow();
      if (format === 'pretty') expect(out).toMatch(/INFO.*registered gateway/);
    }
  });

  test('the service started with LOG_FORMAT=pretty logs readable lines, and a bad value is refused naming the variable', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'mcpg-log-format-'));
    try {
      const main = startMain({ DATA_DIR: dataDir, PORT: '0', LOG_FORMAT: 'pretty' });
      await main.listening(START_TIMEOUT);
      const line = (await main.waitForStdout(/^.*INFO.*listening.*$/m))[0];
      expect(line).not.toMatch(/^\{/);
      main.kill('SIGTERM');
      expect(await main.exited).toEqual({ code: 0, signal: null });

      const bad = startMain({ DATA_DIR: dataDir, PORT: '0', LOG_FORMAT: 'xml' });
      expect(await bad.exited).toEqual({ code: 2, signal: null });
      expect(bad.stderr()).toMatch(/LOG_FORMAT/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, START_TIMEOUT);
});
