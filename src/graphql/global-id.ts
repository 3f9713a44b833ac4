// The one way a mutation reads an id argument. Every id the API hands out is a
// Relay global id (base64 of "<Type>:<uuid>"); an argument that is not one, or
// names a node of another type, is a NotFoundError in the mutation's result
// union, never a top-level error: no <type> has that id. NotFoundError.id is
// always exactly what the client sent.
import { decodeGlobalID } from '@pothos/plugin-relay';
import { NotFoundError } from '../errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The database id behind `sent`, a global id of `typename`; NotFoundError(entity, sent) otherwise. */
export function decodeId(sent: string | number, typename: string, entity: string): string {
  const raw = String(sent);
  let decoded: { typename: string; id: string } | null = null;
  try {
    decoded = decodeGlobalID(raw);
  } catch {
    decoded = null;
  }
  if (!decoded || decoded.typename !== typename || !UUID.test(decoded.id)) throw new NotFoundError(entity, raw);
  return decoded.id;
}

/**
 * Runs `work` with the decoded id; a NotFoundError the services throw about that
 * database id is given back with the id the client sent.
 */
export async function withId<T>(sent: string | number, typename: string, entity: string, work: (id: string) => Promise<T>): Promise<T> {
  const id = decodeId(sent, typename, entity);
  try {
    return await work(id);
  } catch (error) {
    if (error instanceof NotFoundError && error.id === id) throw new NotFoundError(error.entity, String(sent));
    throw error;
  }
}
