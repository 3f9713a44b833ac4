// A child process of bench/subscribers.ts: N graphql-ws clients subscribed to
// gatewayEvents. Each line on stdin is a command: "probe" answers once every
// client has received an event since; "stop" prints, per event sequence, when
// each client received it (epoch ms, sub-millisecond), as one JSON line.
import { createInterface } from 'node:readline';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

const [url, token, countText] = process.argv.slice(2);
const count = Number(countText);
const now = () => performance.timeOrigin + performance.now();
const arrivals = new Map<string, number[]>();
let seenSinceProbe = new Set<number>();
const clients: Client[] = [];
for (let i = 0; i < count; i++) {
  const client = createClient({ url: url!, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0, lazy: false });
  clients.push(client);
  client.subscribe<{ gatewayEvents: { sequence: string } }>(
    { query: 'subscription { gatewayEvents { sequence } }' },
    {
      next: (result) => {
        const at = now();
        const sequence = result.data?.gatewayEvents.sequence;
        if (!sequence) return;
        let list = arrivals.get(sequence);
        if (!list) arrivals.set(sequence, (list = []));
        list.push(at);
        seenSinceProbe.add(i);
      },
      error: (error) => {
        console.error(`client ${i}: ${JSON.stringify(error)}`);
        process.exit(1);
      },
      complete: () => undefined,
    },
  );
}
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'probe') {
    const waitAll = () => (seenSinceProbe.size >= count ? (process.stdout.write('live\n'), (seenSinceProbe = new Set())) : setTimeout(waitAll, 20));
    seenSinceProbe = new Set();
    process.stdout.write('probing\n');
    setTimeout(waitAll, 20);
  } else if (line === 'reset') {
    seenSinceProbe = new Set();
    arrivals.clear();
    process.stdout.write('ok\n');
  } else if (line === 'stop') {
    // Exit only once the (large) line is flushed: process.exit() would cut a pipe write short.
    process.stdout.write(`${JSON.stringify(Object.fromEntries(arrivals))}\n`, () => {
      void Promise.all(clients.map((c) => c.dispose())).then(() => process.exit(0));
    });
  }
});
process.stdout.write('ready\n');
