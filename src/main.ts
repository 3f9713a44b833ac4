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
  const [{ createApp }, { ListenError }, { DataDirError }, { DataDirLockedError }, { MigrationError }, { SecretKeyMismatchError }] = await Promise.all([
    import('./app.js'),
    import('./http/listen.js'),
    import('./data-dir.js'),
    import('./db/data-dir-lock.js'),
    import('./db/migrator.js'),
    import('./security/secret-key-check.js'),
  ]);
  /** Failures a user can fix: one line, exit 1. Anything else is a bug and keeps its stack. */
  const expected = (error: unknown) =>
    error instanceof DataDirError ||
    error instanceof DataDirLockedError ||
    error instanceof MigrationError ||
    error instanceof SecretKeyMismatchError ||
    error instanceof ListenError;

  let app;
  try {
    app = await createApp(config);
  } catch (error) {
    if (!expected(error)) throw error;
    console.error(`cannot start: ${(error as Error).message}`);
    process.exit(1);
  }

  let url;
  try {
    url = await app.listen();
  } catch (error) {
    if (!expected(error)) throw error;
    console.error(`cannot start: ${(error as Error).message}`);
    await app.close().catch(() => undefined);
    process.exit(1);
  }
  app.logger.info({ url }, 'listening');
  console.log(`MCP federation control plane listening on ${url}`);
  if (graphiqlEnabled(config)) console.log(`GraphiQL: ${url}/graphql (open it in a browser)`);
  console.log(`MCP endpoint: ${url}/mcp (an API token with the invoke scope)`);

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
