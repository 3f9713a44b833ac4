// Registering a peer with 10,000 tools, against the bare cost of listing those
// tools from the same peer with the MCP SDK's client, in one run.
// Usage: npx tsx bench/register-10k.ts [--backend pglite|postgres] [--rounds 5]
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Writable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { testDatabase } from '../test/helpers/db.js';
import { startPeer } from '../test/helpers/peers.js';

const { values } = parseArgs({ options: { backend: { type: 'string', default: 'pglite' }, rounds: { type: 'string', default: '5' }, tools: { type: 'string', default: '10000' } } });
const backend = values.backend as 'pglite' | 'postgres';
const rounds = Number(values.rounds);
const toolCount = Number(values.tools);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function listBare(url: string): Promise<number> {
  const client = new Client({ name: 'bench', version: '0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  let count = 0;
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor ? { cursor } : {});
    count += page.tools.length;
    cursor = page.nextCursor;
  } while (cursor);
  await client.close();
  return count;
}

const peer = await startPeer({ tools: toolCount, pageSize: 1000 });
const database = await testDatabase(backend);
const config = loadConfig({ PORT: '0', LOG_LEVEL: 'warn', ADMIN_TOKEN: randomBytes(24).toString('hex'), SECRET_KEY: randomBytes(32).toString('base64') });
const app = await createApp(config, { database, logger: createLogger('warn', new Writable({ write: (_c, _e, done) => done() })), announce: () => undefined });

const list: number[] = [];
const register: number[] = [];
try {
  // One warm-up of each: JIT, the peer's JSON of 10,000 tools, PGlite's caches.
  await listBare(peer.url);
  await app.services.gateways.delete((await app.services.gateways.register({ name: 'warmup', url: peer.url })).id);
  for (let round = 0; round < rounds; round++) {
    let start = performance.now();
    const listed = await listBare(peer.url);
    list.push(performance.now() - start);
    if (listed !== toolCount) throw new Error(`listed ${listed} tools`);

    start = performance.now();
    const gateway = await app.services.gateways.register({ name: `bench ${round}`, url: peer.url });
    register.push(performance.now() - start);
    const stored = await app.db.prisma.tool.count({ where: { gatewayId: gateway.id } });
    if (stored !== toolCount) throw new Error(`stored ${stored} tools`);
    await app.services.gateways.delete(gateway.id);
  }
} finally {
  await app.close();
  await peer.close();
}

const ratio = median(register) / median(list);
console.log(JSON.stringify({ backend, tools: toolCount, rounds, listMs: list.map(Math.round), registerMs: register.map(Math.round), medianListMs: Math.round(median(list)), medianRegisterMs: Math.round(median(register)), ratio: Number(ratio.toFixed(2)) }));
