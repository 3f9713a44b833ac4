// The same tools/call (a peer tool that answers at once) made directly against
// the peer, through a bare SDK proxy (bench/mcp-bare-proxy.ts: the floor of any
// MCP gateway) and through /mcp, interleaved in one run, at concurrency 1 and 50.
// The peer and the gateway (src/main.ts on PostgreSQL) are processes of their
// own; this process is the client: one SDK Client (one MCP session) per target.
// Targets: median latency through the gateway at most 1.3x direct at
// concurrency 1; throughput at concurrency 50 at least 0.7x direct.
// Usage: npx tsx bench/mcp-call.ts [--calls 2000] [--rounds 5] [--phase-ms 2000]
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ADMIN_TOKEN, deployment } from '../test/helpers/deployment.js';
import { killAllMain } from '../test/helpers/process.js';
import { median } from './stats.js';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '5' },
    'phase-ms': { type: 'string', default: '2000' },
  },
});
const calls = Number(values.calls);
const rounds = Number(values.rounds);
const phaseMs = Number(values['phase-ms']);

/** A child process that prints its URL as its first line of output. */
async function child(script: string, ...args: string[]) {
  const process_ = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const url = JSON.parse(await new Promise<string>((resolve) => createInterface({ input: process_.stdout! }).once('line', resolve))) as string;
  return { url, stop: () => process_.stdin!.end() };
}
const peer = await child('bench/mcp-peer.ts');
const peerUrl = peer.url;
const bare = await child('bench/mcp-bare-proxy.ts', peerUrl);

const d = await deployment({ HEALTH_CHECKS: 'false', LOG_LEVEL: 'info', ...(process.env.GATEWAY_NODE_OPTIONS ? { NODE_OPTIONS: process.env.GATEWAY_NODE_OPTIONS } : {}) });
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

async function registerOn(url: string, name: string, peer: string): Promise<void> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${process.env.GATEWAY_TOKEN}` },
    body: JSON.stringify({ query: 'mutation ($input: RegisterGatewayInput!) { registerGateway(input: $input) { __typename } }', variables: { input: { name, url: peer } } }),
  });
  const body = (await response.json()) as { data?: { registerGateway: { __typename: string } } };
  if (body.data?.registerGateway.__typename !== 'RegisterGatewaySuccess') throw new Error(JSON.stringify(body));
}

async function connect(url: string, token?: string): Promise<Client> {
  const client = new Client({ name: 'bench', version: '1' });
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

try {
  // GATEWAY_URL: a gateway started by hand (say, under --cpu-prof) with ADMIN_TOKEN as GATEWAY_TOKEN.
  const external = process.env.GATEWAY_URL;
  const worker = external
    ? { url: external, register: async (name: string, url: string) => { await registerOn(external, name, url); } }
    : (await d.start(1))[0];
  await worker!.register('peer', peerUrl);
  type Name = 'direct' | 'bareProxy' | 'gateway';
  const targets: Record<Name, { client: Client; tool: string }> = {
    direct: { client: await connect(peerUrl), tool: 'echo' },
    bareProxy: { client: await connect(bare.url), tool: 'echo' },
    gateway: { client: await connect(`${worker!.url}/mcp`, process.env.GATEWAY_TOKEN ?? ADMIN_TOKEN), tool: 'peer__echo' },
  };
  const names = Object.keys(targets) as Name[];
  const call = async (name: Name, n: number) => {
    const result = await targets[name].client.callTool({ name: targets[name].tool, arguments: { n } });
    if (result.isError) throw new Error(JSON.stringify(result));
  };

  // Warm-up: sessions, JIT, the gateway's pooled session and prepared statements.
  for (let i = 0; i < 200; i++) for (const name of names) await call(name, i);

  // Concurrency 1: one call at a time, the targets in turn, the order rotating call by call.
  const latency: Record<Name, number[]> = { direct: [], bareProxy: [], gateway: [] };
  for (let i = 0; i < calls; i++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(i + k) % names.length]!;
      const started = performance.now();
      await call(name, i);
      latency[name].push(performance.now() - started);
    }
  }

  // Concurrency 50: 50 calls in flight on the target's session for phaseMs, phases in turn.
  const throughput: Record<Name, number[]> = { direct: [], bareProxy: [], gateway: [] };
  for (let round = 0; round < rounds; round++) {
    for (const name of names) {
      let done = 0;
      const end = performance.now() + phaseMs;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: 50 }, async () => {
          while (performance.now() < end) {
            await call(name, done);
            done++;
          }
        }),
      );
      throughput[name].push(Math.round((done * 1000) / (performance.now() - started)));
    }
  }
  for (const name of names) await targets[name].client.close();

  const summary = (xs: number[]) => ({ p50: +median(xs).toFixed(2), p99: +percentile(xs, 99).toFixed(2) });
  const c1 = Object.fromEntries(names.map((name) => [name, summary(latency[name])])) as Record<Name, { p50: number; p99: number }>;
  const c50 = Object.fromEntries(names.map((name) => [name, median(throughput[name])])) as Record<Name, number>;
  console.log(
    JSON.stringify({
      calls,
      concurrency1Ms: c1,
      medianRatio: { gateway: +(c1.gateway.p50 / c1.direct.p50).toFixed(2), bareProxy: +(c1.bareProxy.p50 / c1.direct.p50).toFixed(2), target: 1.3 },
      concurrency50PerS: c50,
      throughputRatio: { gateway: +(c50.gateway / c50.direct).toFixed(2), bareProxy: +(c50.bareProxy / c50.direct).toFixed(2), target: 0.7 },
      rounds: throughput,
    }),
  );
} finally {
  await d.close();
  await killAllMain();
  bare.stop();
  peer.stop();
}
