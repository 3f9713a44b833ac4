// Registering a peer with 10,000 tools, against the bare cost of listing those
// tools from the same peer with the MCP SDK's client, in one run.
// Usage: npx tsx bench/register-10k.ts [--backend pglite|postgres] [--rounds 5] [--shape minimal|realistic|realistic-no-output]
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../test/helpers/app.js';
import { testDatabase } from '../test/helpers/db.js';
import { startPeer } from '../test/helpers/peers.js';
import { median } from './stats.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'pglite' },
    rounds: { type: 'string', default: '5' },
    tools: { type: 'string', default: '10000' },
    shape: { type: 'string', default: 'minimal' },
  },
});
const backend = values.backend as 'pglite' | 'postgres';
const rounds = Number(values.rounds);
const toolCount = Number(values.tools);

/**
 * minimal (the default): a name, a one-line description and a one-property
 * schema (~150 bytes of JSON). realistic: what MCP servers publish for real
 * tools, a few sentences, four documented parameters, an output schema and
 * annotations (~1.3 kB); realistic-no-output: the same without the output
 * schema (for a tool with one, the SDK's listTools compiles a validator).
 */
function realisticTools(count: number, withOutputSchema: boolean): Tool[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `search_issues_${i + 1}`,
    title: `Search issues (${i + 1})`,
    description:
      'Searches the issues of a repository with a query in the tracker\'s syntax. Results are sorted by the given field ' +
      'and paginated; use the cursor of a previous answer to continue. Closed issues are included only when asked for.',
    inputSchema: {
      type: 'object',
      properties: {
        repository: { type: 'string', description: 'The repository, as owner/name.' },
        query: { type: 'string', description: 'Search terms and qualifiers, such as label:bug or author:me.' },
        sort: { type: 'string', enum: ['created', 'updated', 'comments'], description: 'The field to sort by.' },
        limit: { type: 'integer', minimum: 1, maximum: 100, default: 30, description: 'Results per page.' },
      },
      required: ['repository', 'query'],
    },
    ...(withOutputSchema && {
      outputSchema: {
        type: 'object',
        properties: { items: { type: 'array', items: { type: 'object' } }, nextCursor: { type: 'string' } },
        required: ['items'],
      },
    }),
    annotations: { title: 'Search issues', readOnlyHint: true, openWorldHint: true },
  }));
}


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

const shape = values.shape as 'minimal' | 'realistic' | 'realistic-no-output';
const tools = shape === 'minimal' ? toolCount : realisticTools(toolCount, shape === 'realistic');
const peer = await startPeer({ tools, pageSize: 1000 });
const database = await testDatabase(backend);
const config = loadConfig({ PORT: '0', LOG_LEVEL: 'warn', ADMIN_TOKEN: randomBytes(24).toString('hex'), SECRET_KEY: randomBytes(32).toString('base64') });
const app = await createApp(config, { database, logger: silentLogger('warn'), announce: () => undefined });

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
console.log(JSON.stringify({ backend, shape, tools: toolCount, rounds, listMs: list.map(Math.round), registerMs: register.map(Math.round), medianListMs: Math.round(median(list)), medianRegisterMs: Math.round(median(register)), ratio: Number(ratio.toFixed(2)) }));
