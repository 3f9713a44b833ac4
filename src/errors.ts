// Expected failures of the services. They carry no GraphQL; the API registers
// each one as a typed result (src/graphql/types/errors.ts).

/** Longest piece of input an error message repeats; the rest is counted, not echoed. */
const ECHO_MAX = 80;

/** Input as an error message may show it: quoted, and cut when long (a peer may send a megabyte-long name). */
export function quoted(value: string, max = ECHO_MAX): string {
  if (value.length <= max) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, max))}… (${value.length} characters)`;
}

export class ValidationError extends Error {
  override name = 'ValidationError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export class NotFoundError extends Error {
  override name = 'NotFoundError';
  constructor(
    readonly entity: string,
    readonly id: string,
  ) {
    super(`no ${entity} with id ${id}`);
  }
}

export class NameConflictError extends Error {
  override name = 'NameConflictError';
  constructor(readonly conflictingName: string) {
    super(`the name ${quoted(conflictingName)} is already taken`);
  }
}

export class DuplicateGatewayError extends Error {
  override name = 'DuplicateGatewayError';
  constructor(readonly existingGatewayId: string) {
    super('a gateway with the same URL and the same credentials is already registered');
  }
}

export class GatewayDisabledError extends Error {
  override name = 'GatewayDisabledError';
  constructor(readonly gatewayId: string) {
    super('the gateway is disabled: enable it first (disabled gateways are not checked or synced)');
  }
}

export class FederationLoopError extends Error {
  override name = 'FederationLoopError';
  constructor() {
    super('this peer already reaches this gateway (directly or through other gateways): registering it would make a loop');
  }
}
