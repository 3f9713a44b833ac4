// PGlite answers on this thread: a queue of statements must not keep the event
// loop from its I/O (accepting connections, reading requests) until the queue
// is empty. The server under load answered early requests 15 s late without it.
import { request, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { testDatabase } from '../helpers/db.js';
import { closeServer, listenLocal } from '../helpers/peers.js';

const STATEMENTS = 300;

/** One HTTP round trip on 127.0.0.1: a connection accepted, a request read, an answer written and read. */
function roundTrip(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/' }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk));
      res.on('end', () => resolve(body));
    })
      .on('error', reject)
      .end();
  });
}

describe('PGlite under a queue of statements', () => {
  let db: Database;
  let server: Server | undefined;
  let port: number;

  beforeAll(async () => {
    db = await testDatabase('pglite');
    ({ http: server, port } = await listenLocal(async (_req, res) => void res.end('answered')));
  });
  afterAll(async () => {
    if (server) await closeServer(server);
    await db?.close();
  });

  /** Queues the statements, then asks the server; returns how many statements were done when it answered. */
  async function doneWhenAnswered<T>(queue: () => Promise<T>[]) {
    let done = 0;
    const order: number[] = [];
    const statements = queue().map((statement, i) =>
      statement.then((result) => {
        order.push(i);
        done++;
        return result;
      }),
    );
    const answer = await roundTrip(port).then((body) => ({ body, done }));
    const results = await Promise.all(statements);
    return { ...answer, order, results };
  }

  test('an HTTP request is answered long before the last of the queued queries', async () => {
    const { body, done, order, results } = await doneWhenAnswered(() =>
      Array.from({ length: STATEMENTS }, (_, i) => db.sql.query<{ n: number }>('SELECT $1::int AS n', [i])),
    );
    expect(body).toBe('answered');
    expect(done).toBeLessThan(STATEMENTS / 2);
    // Every answer is its own, and they come in the order the queries were issued.
    expect(results).toEqual(Array.from({ length: STATEMENTS }, (_, i) => [{ n: i }]));
    expect(order).toEqual(Array.from({ length: STATEMENTS }, (_, i) => i));
  });

  test('the same through Prisma and inside a transaction', async () => {
    const viaPrisma = await doneWhenAnswered(() =>
      Array.from({ length: STATEMENTS }, (_, i) => db.prisma.$queryRawUnsafe<{ n: number }[]>('SELECT $1::int AS n', i)),
    );
    expect(viaPrisma.done).toBeLessThan(STATEMENTS / 2);
    expect(viaPrisma.results.map((rows) => rows[0]!.n)).toEqual(Array.from({ length: STATEMENTS }, (_, i) => i));

    let done = 0;
    const transaction = db.sql.transaction(async (tx) => {
      for (let i = 0; i < STATEMENTS; i++) {
        await tx.query('SELECT $1::int AS n', [i]);
        done++;
      }
      return done;
    });
    const answeredAt = await roundTrip(port).then(() => done);
    expect(await transaction).toBe(STATEMENTS);
    expect(answeredAt).toBeLessThan(STATEMENTS / 2);
  });
});
