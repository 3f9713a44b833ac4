// A child process of bench/mcp-call.ts: the floor of any MCP gateway. An SDK
// server on Streamable HTTP whose tools/call is forwarded, as is, to the peer
// over one SDK client session: no authentication, no catalog lookup, no
// logging, no limits. What /mcp costs beyond this is the price of being a
// gateway rather than a pipe. Prints its URL as one JSON line; serves until
// stdin closes.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, CallToolResultSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const peerUrl = process.argv[2]!;
const upstream = new Client({ name: 'bare-proxy', version: '1' });
await upstream.connect(new StreamableHTTPClientTransport(new URL(peerUrl)));

const sessions = new Map<string, StreamableHTTPServerTransport>();
const http = createServer(async (req, res) => {
  const id = req.headers['mcp-session-id'];
  const known = typeof id === 'string' ? sessions.get(id) : undefined;
  if (known) return known.handleRequest(req, res);
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: randomUUID, onsessioninitialized: (sid) => void sessions.set(sid, transport) });
  const server = new Server({ name: 'bare-proxy', version: '1' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => upstream.listTools());
  server.setRequestHandler(CallToolRequestSchema, (request, extra) => upstream.request({ method: 'tools/call', params: request.params }, CallToolResultSchema, { signal: extra.signal }));
  await server.connect(transport);
  await transport.handleRequest(req, res);
});
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
process.stdout.write(`${JSON.stringify(`http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`)}\n`);
process.stdin.resume();
process.stdin.on('close', () => process.exit(0));
