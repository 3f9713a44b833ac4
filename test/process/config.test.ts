// The environment is the whole configuration: defaults that serve a fresh clone,
// and a wrong value that stops the process naming the variable (exit code 2).
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { startMain } from '../helpers/process.js';

describe('loadConfig', () => {
  it('defaults to 127.0.0.1:4000, PGlite in ./data, no Redis', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ HOST: '127.0.0.1', PORT: 4000, DATA_DIR: './data', LOG_LEVEL: 'info' });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.REDIS_URL).toBeUndefined();
    expect(config.ADMIN_TOKEN).toBeUndefined();
    expect(config.SECRET_KEY).toBeUndefined();
  });

  it('reads only its own variables, treats empty ones as unset, and converts numbers', () => {
    const config = loadConfig({ PORT: '8080', HOST: '', PATH: '/usr/bin', MAX_QUERY_DEPTH: ' 7 ' });
    expect(config.PORT).toBe(8080);
    expect(config.HOST).toBe('127.0.0.1');
    expect(config.MAX_QUERY_DEPTH).toBe(7);
    expect(config).not.toHaveProperty('PATH');
  });

  it('accepts each database choice: memory:, postgres:// and postgresql://', () => {
    for (const url of ['memory:', 'postgres://u@db:5432/x', 'postgresql://u:p@db/x']) {
      expect(loadConfig({ DATABASE_URL: url }).DATABASE_URL).toBe(url);
    }
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).REDIS_URL).toBe('redis://127.0.0.1:6379');
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    // Number(' ') is 0: whitespace must not silently mean "any free port".
    ['PORT', ' '],
    ['DATABASE_URL', 'mysql://x'],
    ['REDIS_URL', 'http://127.0.0.1:6379'],
    ['REDIS_CHANNEL_PREFIX', 'two words'],
    ['LOG_LEVEL', 'loud'],
    ['ADMIN_TOKEN', 'too-short'],
    ['SECRET_KEY', 'not-32-bytes'],
    ['GRAPHIQL', 'yes'],
    ['MAX_BODY_BYTES', '10'],
    ['HEALTH_CHECK_INTERVAL_MS', '0'],
    ['HEALTH_CHECK_INTERVAL_MS', '-60000'],
    ['HEALTH_CHECK_CONCURRENCY', '0'],
    ['HEALTH_CHECK_SPREAD_PERCENT', '100'],
    ['UNHEALTHY_THRESHOLD', '0'],
    ['LEADER_ELECTION', 'zookeeper'],
    ['CORS_ORIGINS', '*'],
    ['CORS_ORIGINS', 'https://ok.example, dash.example'],
  ])('%s=%j is a ConfigError naming the variable and what it expects', (variable, value) => {
    const message = configError({ [variable]: value });
    expect(message).toMatch(new RegExp(`^\\s*${variable}: .*expected`, 'm'));
    // Exactly the one bad variable is blamed.
    expect(message.match(/^\s*[A-Z_]+: /gm)).toHaveLength(1);
  });

  it.each([
    // One failed extension must not lose the lock: the TTL covers two steps.
    [{ LEADER_LOCK_TTL_MS: '9000', LEADER_LOCK_EXTEND_MS: '5000' }, 'LEADER_LOCK_TTL_MS'],
    [{ HEALTH_CHECK_INTERVAL_MS: '60000', HEALTH_CHECK_MAX_BACKOFF_MS: '1000' }, 'HEALTH_CHECK_MAX_BACKOFF_MS'],
    [{ LEADER_ELECTION: 'redis' }, 'LEADER_ELECTION'],
    [{ LEADER_ELECTION: 'postgres', DATABASE_URL: 'memory:' }, 'LEADER_ELECTION'],
  ])('settings that contradict each other (%j) blame %s', (env, variable) => {
    const message = configError(env);
    expect(message).toMatch(new RegExp(`^\\s*${variable}: .*expected`, 'm'));
    expect(message.match(/^\s*[A-Z_]+: /gm)).toHaveLength(1);
  });

  it('health and election defaults: checks on, every minute, threshold 3, a 15 s lock extended every 5 s', () => {
    expect(loadConfig({})).toMatchObject({
      HEALTH_CHECKS: true,
      HEALTH_CHECK_INTERVAL_MS: 60_000,
      HEALTH_CHECK_CONCURRENCY: 20,
      HEALTH_CHECK_TIMEOUT_MS: 10_000,
      UNHEALTHY_THRESHOLD: 3,
      HEALTH_CHECK_MAX_BACKOFF_MS: 600_000,
      CATALOG_REFRESH_INTERVAL_MS: 900_000,
      LIST_CHANGED_DEBOUNCE_MS: 1_000,
      LEADER_LOCK_TTL_MS: 15_000,
      LEADER_LOCK_EXTEND_MS: 5_000,
    });
    expect(loadConfig({ LEADER_ELECTION: 'redis', REDIS_URL: 'redis://127.0.0.1:6379' }).LEADER_ELECTION).toBe('redis');
  });

  it('reports every bad variable at once', () => {
    expect(configError({ PORT: 'abc', LOG_LEVEL: 'loud' })).toMatch(/PORT: [^\n]*\n\s*LOG_LEVEL: /);
  });

  it('never echoes the value of a rejected secret', () => {
    const message = configError({ ADMIN_TOKEN: 'hunter2-is-not-32-characters', DATABASE_URL: 'mysql://root:pw-in-url@db/x' });
    expect(message).toMatch(/ADMIN_TOKEN: /);
    expect(message).toMatch(/DATABASE_URL: /);
    expect(message).not.toContain('hunter2');
    expect(message).not.toContain('pw-in-url');
  });
});

/** The message of the ConfigError that `env` must cause. */
function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('src/main.ts with a bad value', () => {
  it('exits with code 2 and names the variable on stderr, without starting', async () => {
    const main = startMain({ PORT: 'abc' });
    const { code } = await main.exited;
    expect(code).toBe(2);
    expect(main.stderr()).toMatch(/^\s*PORT: expected a whole number from 0 to 65535$/m);
    expect(main.stdout()).not.toMatch(/listening/);
  });

  it('exits with code 2 for a lock TTL shorter than two extension steps', async () => {
    const main = startMain({ LEADER_LOCK_TTL_MS: '1000', LEADER_LOCK_EXTEND_MS: '800' });
    expect((await main.exited).code).toBe(2);
    expect(main.stderr()).toMatch(/^\s*LEADER_LOCK_TTL_MS: expected at least twice LEADER_LOCK_EXTEND_MS/m);
  });
});
