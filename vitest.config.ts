import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (main) and ESM (module). Node gives the packages we
    // depend on the CJS build; Vite would give our sources the ESM one, and two
    // copies of graphql in one process refuse each other's types.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // One migrated PGlite template per run; workers clone it (see test/helpers/db.ts).
    globalSetup: ['test/global-setup.ts'],
    // Suites start real servers, PGlite instances and child processes.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    // Forks, not threads: PGlite's WASM heap and native sockets are per process and
    // are freed when a worker exits. Two workers on two cores; each PGlite clone is
    // ~0.4 GB, so more would buy memory pressure, not speed.
    pool: 'forks',
    maxWorkers: 2,
  },
});
