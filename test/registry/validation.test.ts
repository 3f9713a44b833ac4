// What registerGateway refuses before (or instead of) storing anything: bad
// input, names that do not fit, names already taken, a peer already registered.
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { backendAvailable, backends } from '../helpers/db.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startPeer, type TestPeer } from '../helpers/peers.js';
import { PEER_ENV, registered, registerGateway, rowCounts, updateGateway, type RegisterInput } from '../helpers/registry.js';

const tool = (name: string): Tool => ({ name, inputSchema: { type: 'object' } });

describe('registerGateway input', () => {
  let t: TestApp;
  let peer: TestPeer;
  let other: TestPeer;
  beforeAll(async () => {
    t = await startTestApp({ env: { ...PEER_ENV, TOOL_NAME_MAX_LENGTH: '24' } });
    [peer, other] = await Promise.all([startPeer({ tools: 2 }), startPeer({ tools: 3 })]);
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all([peer?.close(), other?.close()]);
  });

  /** Expects a ValidationError on `field`, with no row written and the peer never called. */
  async function refused(input: RegisterInput, field: string, app = t) {
    const before = await rowCounts(app);
    const httpBefore = peer.requests.http;
    const result = await registerGateway(app, input);
    expect(result, JSON.stringify(result)).toMatchObject({ __typename: 'ValidationError', field });
    expect(result.message).not.toBe('');
    expect(await rowCounts(app)).toEqual(before);
    expect(peer.requests.http).toBe(httpBefore);
    return result;
  }

  test.each([
    ['an empty name', { name: '' }, 'name'],
    ['a blank name', { name: '   ' }, 'name'],
    ['a name without letters or digits', { name: '***' }, 'name'],
    ['a name over 100 characters', { name: 'n'.repeat(101) }, 'name'],
    ['a URL that does not parse', { url: 'not a url' }, 'url'],
    ['an ftp URL', { url: 'ftp://127.0.0.1/mcp' }, 'url'],
    ['credentials in the URL', { url: 'http://user:secret@127.0.0.1:9/mcp' }, 'url'],
    ['the link-local metadata address', { url: 'http://169.254.169.254/latest/meta-data' }, 'url'],
    ['the EC2 IPv6 metadata address', { url: 'http://[fd00:ec2::254]/' }, 'url'],
    ['a metadata host name', { url: 'http://metadata.google.internal/computeMetadata/v1' }, 'url'],
    ['21 tags', { tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, 'tags'],
    ['a tag of 51 characters', { tags: ['ok', 'x'.repeat(51)] }, 'tags[1]'],
    ['an empty tag', { tags: [' '] }, 'tags[0]'],
    ['a description over 2000 characters', { description: 'd'.repeat(2001) }, 'description'],
    ['one header given twice in two spellings', { auth: { headers: [{ name: 'X-Key', value: 'a' }, { name: 'x-key', value: 'b' }] } }, 'auth.headers[1].name'],
    ['a header name with a space', { auth: { headers: [{ name: 'X Key', value: 'a' }] } }, 'auth.headers[0].name'],
  ])('%s is a ValidationError on its field, and nothing is stored', async (_label, patch, field) => {
    await refused({ name: 'Valid', url: peer.url, ...patch }, field);
  });

  test('the secret in a URL is not echoed in the error', async () => {
    const result = await refused({ name: 'Valid', url: 'http://user:s3cr3t-value@127.0.0.1:9/mcp' }, 'url');
    expect(JSON.stringify(result)).not.toContain('s3cr3t-value');
  });

  test('loopback peers are refused when PEER_BLOCK_PRIVATE_NETWORKS=true', async () => {
    const strict = await startTestApp({ env: { ...PEER_ENV, PEER_BLOCK_PRIVATE_NETWORKS: 'true' } });
    try {
      const result = await refused({ name: 'Local', url: peer.url }, 'url', strict);
      expect(result.message).toMatch(/private or loopback/);
      await refused({ name: 'Local', url: peer.url.replace('127.0.0.1', 'localhost') }, 'url', strict);
    } finally {
      await strict.close();
    }
  });

  test('a peer tool whose namespaced name is over TOOL_NAME_MAX_LENGTH, or has forbidden characters, is refused', async () => {
    const long = await startPeer({ tools: [tool('short'), tool('a_name_far_too_long')] });
    const odd = await startPeer({ tools: [tool('fine'), tool('has space')], prompts: [{ name: 'p' }] });
    const oddPrompt = await startPeer({ tools: [tool('fine')], prompts: [{ name: 'p/q' }] });
    try {
      const before = await rowCounts(t);
      // "peer__a_name_far_too_long" is 25 characters, one over the maximum.
      const tooLong = await registerGateway(t, { name: 'Peer', url: long.url });
      expect(tooLong).toMatchObject({ __typename: 'ValidationError', field: 'tools[1]' });
      expect(tooLong.message).toMatch(/"peer__a_name_far_too_long" is 25 characters, over the maximum of 24/);
      expect(await registerGateway(t, { name: 'Peer', url: odd.url })).toMatchObject({ __typename: 'ValidationError', field: 'tools[1]' });
      expect(await registerGateway(t, { name: 'Peer', url: oddPrompt.url })).toMatchObject({ __typename: 'ValidationError', field: 'prompts[0]' });
      expect(await rowCounts(t)).toEqual(before);
      // One character less fits exactly.
      await registered(t, { name: 'Pee', url: long.url });
    } finally {
      await Promise.all([long.close(), odd.close(), oddPrompt.close()]);
    }
  });
});

test('a long peer name is refused with a message that quotes only its start; a megabyte-long one is over the field limit', async () => {
  const t = await startTestApp({ env: PEER_ENV });
  const long = 'n'.repeat(1_000);
  const peers = await Promise.all([
    startPeer({ tools: [tool(long)] }),
    startPeer({ tools: [tool(`${long} x`)] }),
    startPeer({ tools: [tool('n'.repeat(1_000_000))] }),
  ]);
  try {
    for (const peer of peers.slice(0, 2)) {
      const refused = await registerGateway(t, { name: 'Huge', url: peer.url });
      expect(refused).toMatchObject({ __typename: 'ValidationError', field: 'tools[0]' });
      expect(refused.message.length).toBeLessThan(300);
      expect(refused.message).toMatch(/"[a-z_ ]{80}"… \(100\d characters\)/);
    }
    const huge = await registerGateway(t, { name: 'Huge', url: peers[2]!.url });
    expect(huge).toMatchObject({ __typename: 'PeerConnectionError', reason: 'PROTOCOL' });
    expect(huge.message.length).toBeLessThan(300);
  } finally {
    await Promise.all(peers.map((p) => p.close()));
    await t.close();
  }
});

describe.each(backends)('names and duplicates on %s', (backend) => {
  let t: TestApp;
  const peers: TestPeer[] = [];
  const it = test.runIf(backendAvailable(backend));
  beforeAll(async () => {
    if (!backendAvailable(backend)) return;
    t = await startTestApp({ backend, env: PEER_ENV });
    peers.push(...(await Promise.all([1, 2, 3, 4].map(() => startPeer({ tools: 2 })))));
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all(peers.splice(0).map((p) => p.close()));
  });

  it('the same name twice, or a name with the same slug, is a NameConflictError', async () => {
    const first = await registered(t, { name: 'Maps', url: peers[0]!.url });
    const before = await rowCounts(t);
    expect(await registerGateway(t, { name: 'Maps', url: peers[1]!.url })).toMatchObject({ __typename: 'NameConflictError', name: 'Maps' });
    expect(await registerGateway(t, { name: ' MAPS! ', url: peers[1]!.url })).toMatchObject({ __typename: 'NameConflictError', name: 'maps' });
    expect(await rowCounts(t)).toEqual(before);
    expect(first.slug).toBe('maps');
  });

  it('two concurrent registrations of one name against two peers: exactly one wins', async () => {
    const before = await rowCounts(t);
    const results = await Promise.all([
      registerGateway(t, { name: 'Race', url: peers[2]!.url }),
      registerGateway(t, { name: 'Race', url: peers[3]!.url }),
    ]);
    const kinds = results.map((r) => r.__typename).sort();
    expect(kinds).toEqual(['NameConflictError', 'RegisterGatewaySuccess']);
    expect(results.find((r) => r.__typename === 'NameConflictError')).toMatchObject({ name: 'Race' });
    const after = await rowCounts(t);
    expect(after.gateways).toBe(before.gateways + 1);
    expect(after.tools).toBe(before.tools + 2);
    expect(after.events).toBe(before.events + 1);
  });

  it('the same URL with the same credentials under another name is a DuplicateGatewayError', async () => {
    const url = peers[0]!.url; // registered as "Maps" above, without credentials
    const existing = (await t.gql(`{ gateways(filter: { search: "Maps" }) { edges { node { id } } } }`)).data.gateways.edges[0].node.id;
    const before = await rowCounts(t);
    expect(await registerGateway(t, { name: 'Maps again', url })).toMatchObject({ __typename: 'DuplicateGatewayError', existingGatewayId: existing });
    expect(await registerGateway(t, { name: 'Maps again', url: `${url}#fragment` })).toMatchObject({ __typename: 'DuplicateGatewayError' });
    expect(await rowCounts(t)).toEqual(before);
    // Other credentials make it another registration (the peer accepts anything).
    await registered(t, { name: 'Maps as bot', url, auth: { bearer: { token: 'bot-token' } } });
  });

  it('concurrent registrations of one URL under two names: exactly one wins', async () => {
    const url = peers[1]!.url;
    const results = await Promise.all([registerGateway(t, { name: 'Twin A', url }), registerGateway(t, { name: 'Twin B', url })]);
    expect(results.map((r) => r.__typename).sort()).toEqual(['DuplicateGatewayError', 'RegisterGatewaySuccess']);
  });
});

describe('namespaced names under a separator made of slug characters', () => {
  let t: TestApp;
  const peers: TestPeer[] = [];
  beforeAll(async () => {
    t = await startTestApp({ env: { ...PEER_ENV, TOOL_NAME_SEPARATOR: '-' } });
    peers.push(...(await Promise.all([[tool('b-c')], [tool('c')], [tool('c')]].map((tools) => startPeer({ tools })))));
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all(peers.map((p) => p.close()));
  });

  test('a registration or rename whose entry names collide with another gateway\'s is a NameConflictError naming the entry', async () => {
    await registered(t, { name: 'a', url: peers[0]!.url }); // a-b-c
    const before = await rowCounts(t);
    // "a-b" + "-" + "c" is "a-b-c" too.
    expect(await registerGateway(t, { name: 'a-b', url: peers[1]!.url })).toMatchObject({ __typename: 'NameConflictError', name: 'a-b-c' });
    expect(await rowCounts(t)).toEqual(before);

    const other = await registered(t, { name: 'zz', url: peers[2]!.url }); // zz-c
    expect(await updateGateway(t, other.id, { name: 'a-b' })).toMatchObject({ __typename: 'NameConflictError', name: 'a-b-c' });
    const tools = await t.app.db.prisma.tool.findMany({ orderBy: { name: 'asc' }, select: { name: true } });
    expect(tools.map((x) => x.name)).toEqual(['a-b-c', 'zz-c']);
    expect((await t.app.db.prisma.gateway.findMany({ orderBy: { name: 'asc' } })).map((g) => g.name)).toEqual(['a', 'zz']);
  });
});
