// A child process of bench/mcp-call.ts: one real MCP peer (the SDK's server,
// Streamable HTTP) whose tool `echo` answers at once. Kept out of the
// benchmark's process so that the client's CPU time does not slow the peer.
// Prints its URL as one JSON line, then serves until stdin closes.
import { startPeer } from '../test/helpers/peers.js';

const peer = await startPeer({
  tools: [{ name: 'echo', inputSchema: { type: 'object' } }],
  callTool: (_name, args) => ({ content: [{ type: 'text', text: JSON.stringify(args ?? {}) }] }),
});
process.stdout.write(`${JSON.stringify(peer.url)}\n`);
process.stdin.resume();
process.stdin.on('close', () => void peer.close().then(() => process.exit(0)));
