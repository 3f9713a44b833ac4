// graphql-js checks the kind of every type it meets with its own `instanceOf`.
// Unless NODE_ENV=production, each check that fails (is this object type a
// list? a non-null? an enum?) goes on to look for a second copy of graphql in
// the process, a class of the same name from another module, and throws if it
// finds one. Executing a dashboard page fails about 15,000 such checks: 11% of
// the page's CPU on PostgreSQL (bench/README.md, "graphql-js's realm checks").
//
// Two copies of graphql are a mistake of installation, not of a request: this
// project's lockfile holds one for the server, and test/graphql/realm-checks.test.ts
// checks that every module of graphql the app loads comes from that one. So
// the check is made once there, and graphql is switched here to the
// plain `instanceof` that NODE_ENV=production gives it, whatever NODE_ENV
// says; the rest of development mode (GraphiQL, Pothos' checks) stays.
//
// How: graphql's CommonJS modules (the build Node loads: the package has no
// `exports` map) read `instanceOf` from its module's exports at every call, so
// replacing that export switches every caller.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function plainInstanceOf(value: unknown, constructor: abstract new (...args: never[]) => unknown): boolean {
  return value instanceof constructor;
}

/** Switches graphql-js's type checks to plain `instanceof` (what NODE_ENV=production does). Idempotent. */
export function skipGraphQLRealmChecks(): void {
  const module = require('graphql/jsutils/instanceOf.js') as { instanceOf: typeof plainInstanceOf };
  module.instanceOf = plainInstanceOf;
}
