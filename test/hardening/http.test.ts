// What the HTTP side answers to browsers of other sites and to broken bodies:
// no CORS unless an origin is listed, and no echo of a body it cannot parse.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

const ALLOWED = 'https://dash.example:8443';

describe('HTTP hardening', () => {
  let closed: TestApp;
  let open: TestApp;
  beforeAll(async () => {
    closed = await startTestApp();
    open = await startTestApp({ env: { CORS_ORIGINS: `${ALLOWED}, https://ops.example` } });
  });
  afterAll(async () => {
    await closed?.close();
    await open?.close();
  });

  const preflight = (t: TestApp, origin: string) =>
    t.app.yoga.fetch('http://localhost/graphql', {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
  const corsHeaders = (response: Response) => [...response.headers.keys()].filter((name) => name.startsWith('access-control-'));

  test('by default no origin gets CORS headers, on a preflight or on a request', async () => {
    expect(corsHeaders(await preflight(closed, 'https://evil.example'))).toEqual([]);
    const response = await closed.app.yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'application/json', authorization: `Bearer ${closed.adminToken}` },
      body: JSON.stringify({ query: '{ viewer { name } }' }),
    });
    expect(response.status).toBe(200);
    expect(corsHeaders(response)).toEqual([]);
  });

  test('CORS_ORIGINS lets exactly the listed origins in, without credentials', async () => {
    const allowed = await preflight(open, ALLOWED);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(allowed.headers.get('access-control-allow-credentials')).not.toBe('true');
    expect(allowed.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    expect(corsHeaders(await preflight(open, 'https://evil.example'))).toEqual([]);
    expect(corsHeaders(await preflight(open, `${ALLOWED}.evil.example`))).toEqual([]);
  });

  test.each([
    ['cut short', '{"query":"{ viewer { name } }","variables":{"password":"hunter2-in-the-body"'],
    ['not JSON at all', 'hunter2-in-the-body is not json'],
  ])('a body that is not valid JSON (%s) gets 400 and a fixed message, never the body', async (_label, body) => {
    const response = await closed.app.yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${closed.adminToken}` },
      body,
    });
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text).not.toContain('hunter2');
    expect(JSON.parse(text).errors[0].message).toBe('POST body sent invalid JSON.');
  });
});
