// Process entry: configuration, the app, signals. Exit codes: 0 after a clean
// shutdown, 2 for bad configuration, 1 for anything else that stops the start.
import { ConfigError, graphiqlEnabled, loadConfig } from './config.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }

  // Loaded only once the configuration is known to be good: the app's module
  // graph (Prisma, Pothos, PGlite) takes seconds to load, a typo should not.
  const [{ createApp }, { DataDirLockedError }, { MigrationError }, { SecretKeyMismatchError }] = await Promise.all([
    import('./app.js'),
    import('./db/data-dir-lock.js'),
    import('./db/migrator.js'),
    import('./security/secret-key-check.js'),
  ]);

  let app;
  try {
    app = await createApp(config);
  } catch (error) {
    if (error instanceof DataDirLockedError || error instanceof MigrationError || error instanceof SecretKeyMismatchError) {
      console.error(`cannot start: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }

  const url = await app.listen();
  app.logger.info({ url }, 'listening');
  console.log(`MCP federation control plane listening on ${url}`);
  if (graphiqlEnabled(config)) console.log(`GraphiQL: ${url}/graphql (open it in a browser)`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, 'shutting down');
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
