// A TCP proxy in front of the test Redis that a test cuts and restores, so that
// Redis "goes away" for the apps behind it while the real server (which other
// suites share) keeps running.
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { TEST_REDIS_URL } from './services.js';

export interface RedisProxy {
  /** REDIS_URL for the apps that should lose Redis when the proxy is cut. */
  url: string;
  /**
   * Destroys every open connection. Then, by default, nothing is accepted (the
   * port refuses); with `{ reset: true }` connections are accepted and reset at
   * once, each one counted in `resets` (how a test knows clients kept retrying).
   */
  cut(options?: { reset?: boolean }): Promise<void>;
  /** Forwards new connections again, on the same port. */
  restore(): Promise<void>;
  /** Connections reset since the last cut({ reset: true }). */
  readonly resets: number;
}

export async function redisProxy(): Promise<RedisProxy> {
  const target = new URL(TEST_REDIS_URL);
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  let resetting = false;
  let resets = 0;

  const forward = (client: Socket) => {
    if (resetting) {
      resets++;
      client.on('error', () => undefined);
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(Number(target.port || 6379), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  };
  const listen = async () => {
    resetting = false;
    if (server) return;
    const s = createServer(forward);
    await new Promise<void>((resolve) => s.listen(port, '127.0.0.1', resolve));
    port = (s.address() as AddressInfo).port;
    server = s;
  };
  const cut = async ({ reset = false } = {}) => {
    resets = 0;
    resetting = reset;
    for (const socket of sockets) socket.destroy();
    if (reset) return;
    const s = server;
    server = undefined;
    if (!s) return;
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await listen();
  const url = new URL(TEST_REDIS_URL);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.toString(),
    cut,
    restore: listen,
    get resets() {
      return resets;
    },
  };
}
