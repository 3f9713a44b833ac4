// Listening, with a failure a user can act on: one line naming HOST:PORT and
// why, instead of a Node error with a stack.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export class ListenError extends Error {
  override name = 'ListenError';
}

const REASONS: Record<string, string> = {
  EADDRINUSE: 'the address is already in use (another process listens on this port)',
  EADDRNOTAVAIL: "the address is not one of this machine's",
  EACCES: 'permission denied (ports below 1024 need privileges)',
  ENOTFOUND: 'HOST does not resolve',
  EAI_AGAIN: 'HOST could not be resolved (temporary DNS failure)',
};

/** Listens and resolves with the base URL; rejects with a ListenError. */
export function listen(server: Server, host: string, port: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const fail = (error: NodeJS.ErrnoException) =>
      reject(new ListenError(`cannot listen on ${host}:${port}: ${REASONS[error.code ?? ''] ?? error.message}`));
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      const bound = (server.address() as AddressInfo).port;
      resolve(`http://${host.includes(':') ? `[${host}]` : host}:${bound}`);
    });
  });
}
