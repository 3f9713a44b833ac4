// A peer that sends more than the limits allow, through the API: the answer is a
// PeerConnectionError PROTOCOL naming the limit, nothing is stored, and the
// process's memory stays far below what the peer tried to send.
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { FIELD_LIMITS } from '../../src/federation/catalog-kinds.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { peerPool, type Flood, type PeerOptions } from '../helpers/peers.js';
import { catalogOf, PEER_ENV, refreshGateway, registered, registerGateway, rowCounts } from '../helpers/registry.js';

const MiB = 1024 * 1024;
const tool = (name: string, extra: Partial<Tool> = {}): Tool => ({ name, inputSchema: { type: 'object' }, ...extra });

/** Runs `work` while sampling the process's memory; returns the largest growth of RSS and of heap + buffers. */
async function memoryGrowth<T>(work: () => Promise<T>): Promise<{ result: T; rss: number; heap: number }> {
  const before = process.memoryUsage();
  const peak = { rss: before.rss, heap: before.heapUsed + before.arrayBuffers };
  const sample = () => {
    const now = process.memoryUsage();
    peak.rss = Math.max(peak.rss, now.rss);
    peak.heap = Math.max(peak.heap, now.heapUsed + now.arrayBuffers);
  };
  // Sampling, not timing: the peak is what is asserted, whenever it happens.
  const sampler = setInterval(sample, 2);
  try {
    const result = await work();
    sample();
    return { result, rss: peak.rss - before.rss, heap: peak.heap - (before.heapUsed + before.arrayBuffers) };
  } finally {
    clearInterval(sampler);
  }
}

describe('peers over the limits, through the API', () => {
  let t: TestApp;
  const pool = peerPool();
  const peer = pool.start;
  beforeAll(async () => {
    // Default PEER_MAX_RESPONSE_BYTES (16 MiB); a small PEER_MAX_CATALOG_ENTRIES.
    t = await startTestApp({ env: { ...PEER_ENV, PEER_MAX_CATALOG_ENTRIES: '100' } });
  });
  afterEach(async () => {
    await pool.closeAll();
  });
  afterAll(() => t?.close());

  // First in the file, so RSS is measured before other tests have grown the heap it could reuse.
  test.each<[string, PeerOptions['transport'], Flood['as']]>([
    ['a 1 GiB JSON tools/list answer', 'streamable', 'json'],
    ['a 1 GiB SSE event that never ends (Streamable HTTP)', 'streamable', 'event'],
    ['a 1 GiB SSE event that never ends (HTTP+SSE event stream)', 'sse', 'event'],
  ])('%s is cut at 16 MiB: PROTOCOL, nothing stored, memory far below the answer', async (_label, transport, as) => {
    const bytes = 1024 * MiB;
    const p = await peer({ transport, tools: 1, flood: { bytes, as } });
    const before = await rowCounts(t);
    const { result, rss, heap } = await memoryGrowth(() => registerGateway(t, { name: 'Flood', url: p.url }));
    const what = as === 'json' ? 'a response body' : 'an event';
    expect(result).toMatchObject({
      __typename: 'PeerConnectionError',
      reason: 'PROTOCOL',
      message: `peer sent ${what} over ${16 * MiB} bytes (PEER_MAX_RESPONSE_BYTES)`,
    });
    expect(await rowCounts(t)).toEqual(before);
    // The peer stopped soon after the cut, far from the GiB it meant to send.
    expect(p.requests.flooded).toBeLessThan(64 * MiB);
    // Generous: what 16 MiB take in buffers, the text decoded from them and the parser's copy; the answer was 1024 MiB.
    // Measured: RSS +11 to +44 MiB, heap and buffers +25 to +32 MiB, the peer writing 20 MiB. Without the bound,
    // the same peers got 450 to 800 MiB of RSS in before the 5 s timeout ended the registration.
    expect(rss).toBeLessThan(256 * MiB);
    expect(heap).toBeLessThan(256 * MiB);
  });

  test('more entries than PEER_MAX_CATALOG_ENTRIES: PROTOCOL after the page that goes past it, nothing stored', async () => {
    const p = await peer({ tools: 2_000, pageSize: 40 });
    const before = await rowCounts(t);
    const result = await registerGateway(t, { name: 'Many', url: p.url });
    expect(result).toMatchObject({
      __typename: 'PeerConnectionError',
      reason: 'PROTOCOL',
      message: "peer's tools/list lists more than 100 tools (PEER_MAX_CATALOG_ENTRIES)",
    });
    expect(p.requests.methods['tools/list']).toBe(3);
    expect(await rowCounts(t)).toEqual(before);
  });

  test('a description over its limit: PROTOCOL naming the entry and the limit, nothing stored', async () => {
    const p = await peer({ tools: [tool('fine'), tool('wordy', { description: 'd'.repeat(FIELD_LIMITS.description + 1) })] });
    const before = await rowCounts(t);
    const result = await registerGateway(t, { name: 'Wordy', url: p.url });
    expect(result).toMatchObject({
      __typename: 'PeerConnectionError',
      reason: 'PROTOCOL',
      message: `peer's tools[1] "wordy": its description is ${FIELD_LIMITS.description + 1} characters, over the limit of ${FIELD_LIMITS.description}`,
    });
    expect(await rowCounts(t)).toEqual(before);
  });

  test('a refresh that meets a limit fails and keeps the stored catalog as it was', async () => {
    const p = await peer({ tools: 3 });
    const gateway = await registered(t, { name: 'Grows', url: p.url });
    const stored = await catalogOf(t, gateway.id);
    const before = await rowCounts(t);

    p.setCatalog({ tools: 101 });
    expect(await refreshGateway(t, gateway.id)).toMatchObject({ __typename: 'PeerConnectionError', reason: 'PROTOCOL', message: expect.stringMatching(/PEER_MAX_CATALOG_ENTRIES/) });
    p.setCatalog({ tools: [tool('tool_0001', { inputSchema: { type: 'object', description: 's'.repeat(FIELD_LIMITS.json) } })] });
    expect(await refreshGateway(t, gateway.id)).toMatchObject({ __typename: 'PeerConnectionError', reason: 'PROTOCOL', message: expect.stringMatching(/inputSchema is \d+ characters as JSON/) });

    expect(await rowCounts(t)).toEqual(before);
    expect(await catalogOf(t, gateway.id)).toEqual(stored);
  });
});
