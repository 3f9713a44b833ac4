// The app under load, for dashboard-load.ts, in a process of its own (the load
// generator must not share its event loop): seeds the catalog by SQL
// (catalog-seed.ts), starts the control plane with HEALTH_CHECKS off and an
// admin token, and prints {"url","token"} as its one line of output; it stops
// when stdin ends. NODE_ENV and the like come from the environment.
// Usage (by dashboard-load.ts): node --import tsx bench/dashboard-app.ts <pglite|postgres> <gateways> <toolsPerGateway> [databaseUrl]
import { randomBytes } from 'node:crypto';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { silentLogger } from '../test/helpers/app.js';
import { seedCatalog, settle } from './catalog-seed.js';

const [backend, gateways, perGateway, databaseUrl] = process.argv.slice(2);
const database =
  backend === 'postgres' ? await openDatabase({ kind: 'postgres', url: databaseUrl! }) : await openDatabase({ kind: 'pglite' });
await database.migrate();
await seedCatalog(database.sql, { gateways: Number(gateways), toolsPerGateway: Number(perGateway) });
await settle(database.sql);

const token = randomBytes(24).toString('hex');
const config = loadConfig({
  PORT: '0',
  LOG_LEVEL: 'warn',
  ADMIN_TOKEN: token,
  SECRET_KEY: randomBytes(32).toString('base64'),
  HEALTH_CHECKS: 'false',
  ...(process.env.NODE_ENV ? { NODE_ENV: process.env.NODE_ENV } : {}),
});
const app = await createApp(config, { database, logger: silentLogger('warn'), announce: () => undefined });
const url = await app.listen();
console.log(JSON.stringify({ url: `${url}/graphql`, token }));
process.stdin.resume();
process.stdin.on('end', () => {
  void app.close().then(() => process.exit(0));
});
