// A peer that echoes the credentials it received in its error messages: no
// form of any secret (as sent, without its scheme, decoded, base64, URL-encoded,
// in another case, cut by a message's length bound) reaches a GraphQL response
// or a log line, whether registering or refreshing, for every kind of
// credentials and both transports. Real peers on 127.0.0.1.
import type { IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startPeer, startTokenServer, type Echo, type ExpectedAuth, type TestPeer, type TokenServer } from '../helpers/peers.js';
import { recordingClient, type RecordingClient } from '../helpers/secret-scan.js';
import { PEER_ENV } from '../helpers/registry.js';
import { REFRESH, REGISTER } from './peer-credentials-documents.js';

// Unlikely strings: a trace of one anywhere is a leak, never a coincidence.
const SECRETS = {
  password: 'pw-echo-R4nV8q',
  token: 'tok-echo-K7wM2z',
  apiKey: 'hdr-echo-key-P3xL9d',
  tenant: 'hdr-echo-tenant-T6cB1s',
  // Characters that are encoded on the way to the token endpoint (RFC 6749 §2.3.1).
  clientSecret: 'cs-echo-Z8hJ5f :&=+',
};
const CLIENT_ID = 'echo-client';

/** What the peer received, taken apart the ways a peer could repeat it. */
interface Received {
  /** The secret-bearing header values, as sent. */
  raw: string[];
  /** The secret itself: token, password, header value, access token. */
  secret: string;
  /** `user:pass`, for Basic. */
  decoded?: string;
}

interface Kind {
  name: string;
  demands: () => ExpectedAuth;
  input: () => Record<string, unknown>;
  received: (headers: IncomingHttpHeaders) => Received;
}

const afterScheme = (value: string) => value.slice(value.indexOf(' ') + 1);
const base64 = (text: string) => Buffer.from(text).toString('base64');

/** Each way the peer repeats what it received, as the text of its error; undefined: not for this kind. */
const ECHOES: [string, (r: Received) => string | undefined][] = [
  ['the headers as sent', (r) => `rejected, you sent: ${r.raw.map((v) => `Authorization: ${v}`).join(', ')}`],
  ['the secret without its scheme', (r) => `unknown credential ${r.secret}`],
  ['the decoded user:pass', (r) => r.decoded && `no such user/password pair ${r.decoded}`],
  ['the secret base64-encoded', (r) => `got ${base64(r.secret)} (base64)`],
  ['the secret URL-encoded', (r) => `got ${encodeURIComponent(r.secret)} in the query`],
  ['the secret in upper case', (r) => `GOT ${r.secret.toUpperCase()}`],
  // "MCP error -32600: " is 18 characters: the secret straddles the 200th character of the SDK's message.
  ['the secret across the 200th character', (r) => `${'x'.repeat(200 - 18 - 4)}${r.secret} and more after it`],
];

describe('peers that echo the credentials they received', () => {
  let t: TestApp;
  let api: RecordingClient;
  let tokens: TokenServer;
  const peers: TestPeer[] = [];
  /** Every secret the peers saw (the OAuth access tokens are issued as the tests go). */
  const seen = new Set<string>(Object.values(SECRETS));
  /** The echo the peers answer with, and on which method; undefined: they answer normally. */
  let echoing: { method: string; text: (r: Received) => string | undefined } | undefined;

  const kinds: Kind[] = [
    {
      name: 'basic',
      demands: () => ({ type: 'basic', username: 'echo-user', password: SECRETS.password }),
      input: () => ({ basic: { username: 'echo-user', password: SECRETS.password } }),
      received: (h) => {
        const decoded = Buffer.from(afterScheme(h.authorization!), 'base64').toString('utf8');
        return { raw: [h.authorization!], secret: decoded.slice(decoded.indexOf(':') + 1), decoded };
      },
    },
    {
      name: 'bearer',
      demands: () => ({ type: 'bearer', token: SECRETS.token }),
      input: () => ({ bearer: { token: SECRETS.token } }),
      received: (h) => ({ raw: [h.authorization!], secret: afterScheme(h.authorization!) }),
    },
    {
      name: 'headers',
      demands: () => ({ type: 'headers', headers: { 'x-api-key': SECRETS.apiKey, 'x-tenant': SECRETS.tenant } }),
      input: () => ({ headers: [{ name: 'X-Api-Key', value: SECRETS.apiKey }, { name: 'X-Tenant', value: SECRETS.tenant }] }),
      received: (h) => ({ raw: [String(h['x-api-key']), String(h['x-tenant'])], secret: String(h['x-api-key']) }),
    },
    {
      name: 'oauth',
      demands: () => ({ type: 'oauth', tokens }),
      input: () => ({ oauth2ClientCredentials: { tokenUrl: tokens.url, clientId: CLIENT_ID, clientSecret: SECRETS.clientSecret } }),
      received: (h) => ({ raw: [h.authorization!], secret: afterScheme(h.authorization!) }),
    },
  ];

  async function echoPeer(kind: Kind, transport: 'streamable' | 'sse', as: Echo['as']): Promise<TestPeer> {
    const text = (headers: IncomingHttpHeaders) => {
      const received = kind.received(headers);
      seen.add(received.secret);
      return echoing?.text(received);
    };
    const peer = await startPeer({
      transport,
      tools: 2,
      auth: kind.demands(),
      // Which method echoes is decided per test: the option is read per request.
      echo: {
        as,
        get method() {
          return echoing?.method ?? 'tools/list';
        },
        text,
      },
    });
    peers.push(peer);
    return peer;
  }

  /** Every trace of every secret the peers saw: the forms a leak could take, and any 8 characters in a row. */
  function traces(text: string): string[] {
    const lower = text.toLowerCase();
    const found: string[] = [];
    for (const secret of seen) {
      const forms = [secret, base64(secret), Buffer.from(secret).toString('base64url'), encodeURIComponent(secret), `echo-user:${secret}`, base64(`echo-user:${secret}`)];
      for (let i = 0; i + 8 <= secret.length; i++) forms.push(secret.slice(i, i + 8));
      for (const form of forms) if (lower.includes(form.toLowerCase())) found.push(`${JSON.stringify(form)} in ${text.slice(0, 400)}`);
    }
    return found;
  }

  beforeAll(async () => {
    t = await startTestApp({ env: PEER_ENV });
    api = recordingClient(t);
    tokens = await startTokenServer({ clientId: CLIENT_ID, clientSecret: SECRETS.clientSecret });
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all([...peers.map((p) => p.close()), tokens?.close()]);
  });

  let n = 0;
  async function register(peer: TestPeer, kind: Kind) {
    const { data, errors } = await api.gql(REGISTER, { input: { name: `echo ${++n}`, url: peer.url, auth: kind.input() } });
    expect(errors).toBeUndefined();
    return data.registerGateway;
  }

  describe.each(kinds)('$name credentials', (kind) => {
    describe.each(['streamable', 'sse'] as const)('over %s', (transport) => {
      let peer: TestPeer;
      beforeAll(async () => {
        peer = await echoPeer(kind, transport, 'jsonrpc');
      });

      // Only Basic credentials decode to user:pass.
      const echoes = ECHOES.filter(([label]) => kind.name === 'basic' || !label.includes('user:pass'));
      test.each(echoes)('a JSON-RPC error repeating %s: redacted in the message', async (_label, build) => {
        echoing = { method: 'tools/list', text: build };
        const echoedBefore = peer.requests.echoed.length;
        const result = await register(peer, kind);
        echoing = undefined;
        expect(peer.requests.echoed.length).toBe(echoedBefore + 1);
        expect(result).toMatchObject({ __typename: 'PeerConnectionError', reason: 'PROTOCOL' });
        // The peer's words are repeated, its echo of the secret is not: "[redacted]" stands in
        // for it (cut to "[r" where the message's length bound falls in it).
        expect(result.message).toMatch(/^peer answered with an error: MCP error -32600: .*\[r/);
        expect(traces(result.message)).toEqual([]);
      });
    });

    test('an echo in the answer to initialize, and in an HTTP error body', async () => {
      const jsonrpc = await echoPeer(kind, 'streamable', 'jsonrpc');
      echoing = { method: 'initialize', text: (r) => `initialize refused for ${r.raw.join(' and ')} (${r.secret})` };
      const refused = await register(jsonrpc, kind);
      expect(refused).toMatchObject({ __typename: 'PeerConnectionError', reason: 'PROTOCOL', message: expect.stringContaining('[redacted]') });
      expect(traces(refused.message)).toEqual([]);

      const body = await echoPeer(kind, 'streamable', 'body');
      echoing = { method: 'tools/list', text: (r) => `internal error; request had ${r.raw.join(', ')}; decoded ${r.decoded ?? r.secret}` };
      const failed = await register(body, kind);
      echoing = undefined;
      expect(failed).toMatchObject({ __typename: 'PeerConnectionError', reason: 'HTTP_STATUS', httpStatus: 500 });
      expect(traces(failed.message)).toEqual([]);
      expect(jsonrpc.requests.echoed.length + body.requests.echoed.length).toBe(2);
    });

    test('refreshGateway: a peer that starts echoing gets nothing through either', async () => {
      const peer = await echoPeer(kind, 'streamable', 'jsonrpc');
      const registered = await register(peer, kind);
      expect(registered.__typename).toBe('RegisterGatewaySuccess');
      echoing = { method: 'tools/list', text: (r) => `session expired for ${r.raw.join(' ')}; ${r.secret}; ${r.decoded ?? ''}` };
      const { data } = await api.gql(REFRESH, { id: registered.gateway.id });
      echoing = undefined;
      expect(data.refreshGateway).toMatchObject({ __typename: 'PeerConnectionError', reason: 'PROTOCOL', message: expect.stringContaining('[redacted]') });
      expect(traces(data.refreshGateway.message)).toEqual([]);
    });
  });

  test('a peer that knows the OAuth client secret (it sees the token endpoint) cannot echo it either', async () => {
    const oauth = kinds.find((k) => k.name === 'oauth')!;
    const peer = await echoPeer(oauth, 'streamable', 'jsonrpc');
    const secret = SECRETS.clientSecret;
    const forms = [secret, encodeURIComponent(secret), encodeURIComponent(secret).replace(/%20/g, '+'), base64(`${CLIENT_ID}:${encodeURIComponent(secret).replace(/%20/g, '+')}`)];
    echoing = { method: 'tools/list', text: () => `client credentials were ${forms.join(' / ')}` };
    const result = await register(peer, oauth);
    echoing = undefined;
    expect(result).toMatchObject({ __typename: 'PeerConnectionError', reason: 'PROTOCOL', message: expect.stringContaining('[redacted]') });
    expect(traces(result.message)).toEqual([]);
    for (const form of forms) expect(result.message).not.toContain(form);
  });

  // Runs last: it scans everything the tests above left behind.
  test('no trace of any secret in any GraphQL response or log line', () => {
    expect(peers.reduce((sum, p) => sum + p.requests.echoed.length, 0)).toBeGreaterThan(40);
    expect(api.responses.length).toBeGreaterThan(40);
    expect(traces([...api.responses, ...t.logs].join('\n'))).toEqual([]);
  });
});
