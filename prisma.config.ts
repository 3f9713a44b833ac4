// Used by the Prisma CLI only (generate; migrate deploy where the schema engine
// can be had). The running service applies migrations itself: src/db/migrator.ts.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/test' },
});
