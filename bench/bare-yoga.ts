// The floor of graphql-yoga itself, for dashboard-load.ts: a bare createYoga
// server with a tiny schema of the same shape as the dashboard's queries,
// answering from memory (no database, no auth, no limits, no Prisma).
// It holds the same gateways and tools as the seeded catalog (catalog-seed.ts)
// and prints its URL as its one line of output; it stops when stdin ends.
// Usage (by dashboard-load.ts): node --import tsx bench/bare-yoga.ts <gateways> <toolsPerGateway>
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSchema, createYoga } from 'graphql-yoga';
import { describeTool, slugOf } from './catalog-seed.js';

const gatewayCount = Number(process.argv[2] ?? 50);
const perGateway = Number(process.argv[3] ?? 20);

interface ToolRow { id: string; name: string; description: string }
const globalId = (type: string, n: number) => Buffer.from(`${type}:0190f5d2-7000-7000-8000-${String(n).padStart(12, '0')}`).toString('base64');
const gateways = Array.from({ length: gatewayCount }, (_, g) => {
  const tools: ToolRow[] = Array.from({ length: perGateway }, (_, i) => {
    const k = g * perGateway + i;
    return { id: globalId('Tool', k), name: `${slugOf(g + 1)}__tool_${i + 1}`, description: describeTool(k).description };
  }).sort((a, b) => (a.name < b.name ? -1 : 1));
  return { id: globalId('Gateway', g), name: `Gateway ${String(g + 1).padStart(4, '0')}`, status: 'ACTIVE', tools };
});
const allTools = gateways.flatMap((g) => g.tools).sort((a, b) => (a.name < b.name ? -1 : 1));

const connection = <T>(rows: T[], first: number) => ({ totalCount: rows.length, edges: rows.slice(0, first).map((node) => ({ node })) });

const schema = createSchema({
  typeDefs: /* GraphQL */ `
    enum GatewayStatus { ACTIVE DISABLED UNREACHABLE }
    input CatalogFilter { search: String }
    type Tool { id: ID! name: String! description: String }
    type ToolEdge { node: Tool! }
    type ToolConnection { totalCount: Int! edges: [ToolEdge!]! }
    type Gateway { id: ID! name: String! status: GatewayStatus! tools(first: Int): ToolConnection! }
    type GatewayEdge { node: Gateway! }
    type GatewayConnection { totalCount: Int! edges: [GatewayEdge!]! }
    type Query {
      gateways(first: Int): GatewayConnection!
      tools(first: Int, filter: CatalogFilter): ToolConnection!
    }
  `,
  resolvers: {
    Query: {
      gateways: (_root: unknown, args: { first?: number }) => connection(gateways, args.first ?? 20),
      tools: (_root: unknown, args: { first?: number; filter?: { search?: string } }) => {
        const text = args.filter?.search?.trim().toLowerCase();
        const rows = text ? allTools.filter((t) => t.name.toLowerCase().includes(text) || t.description.toLowerCase().includes(text)) : allTools;
        return connection(rows, args.first ?? 20);
      },
    },
    Gateway: {
      tools: (gateway: (typeof gateways)[number], args: { first?: number }) => connection(gateway.tools, args.first ?? 20),
    },
  },
});

const yoga = createYoga({ schema, logging: false, graphiql: false });
const server = createServer(yoga);
server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify(`http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`));
});
process.stdin.resume();
process.stdin.on('end', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
