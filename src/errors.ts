// Expected failures of the services. They carry no GraphQL; the API registers
// each one as a typed result (src/graphql/types/errors.ts).

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
    super(`the name ${JSON.stringify(conflictingName)} is already taken`);
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
