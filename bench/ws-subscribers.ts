// A child process of bench/subscribers.ts: N graphql-ws clients subscribed to
// gatewayEvents, spread round-robin over one or more workers' URLs (given
// comma-separated). Each line on stdin is a command: "probe" answers once every
// client has received an event since; "stop" prints, for each URL in the order
// given, when each of its clients received each event (epoch ms, sub-millisecond,
// by event sequence), as one JSON line: an array with one object per URL.
import { createInterface } from 'node:readline';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

const [urlList, token, countText] = process.argv.slice(2);
const urls = urlList!.split(',');
const count = Number(countText);
const now = () => performance.timeOrigin + performance.now();
/** Per URL: event sequence → arrival times of that URL's clients. */
const arrivals = urls.map(() => new Map<string, number[]>());
let seenSinceProbe = new Set<number>();
const clients: Client[] = [];
for (let i = 0; i < count; i++) {
  const worker = i % urls.length;
  const client = createClient({ url: urls[worker]!, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0, lazy: false });
  clients.push(client);
  client.subscribe<{ gatewayEvents: { sequence: string } }>(
    { query: 'subscription { gatewayEvents { sequence } }' },
    {
      next: (result) => {
        const at = now();
        const sequence = result.data?.gatewayEvents.sequence;
        if (!sequence) return;
        const byEvent = arrivals[worker]!;
        let list = byEvent.get(sequence);
        if (!list) byEvent.set(sequence, (list = []));
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
    for (const byEvent of arrivals) byEvent.clear();
    process.stdout.write('ok\n');
  } else if (line === 'stop') {
    // Exit only once the (large) line is flushed: process.exit() would cut a pipe write short.
    process.stdout.write(`${JSON.stringify(arrivals.map((byEvent) => Object.fromEntries(byEvent)))}\n`, () => {
      void Promise.all(clients.map((c) => c.dispose())).then(() => process.exit(0));
    });
  }
});
process.stdout.write('ready\n');
