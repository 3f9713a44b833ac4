// The one way the API reads an id argument. Every id the API hands out is a
// Relay global id (base64 of "<Type>:<uuid>"). An argument that is not one, or
// names a node of another type, names nothing: a mutation answers a
// NotFoundError in its result union (NotFoundError.id is exactly what the
// client sent), a lookup answers null, a filter matches nothing. Never a
// top-level error.
import { decodeGlobalID } from '@pothos/plugin-relay';
import { NotFoundError } from '../errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ASCII = /^[\x00-\x7f]*$/;

/**
 * The global id of `id` as a node of `typename`: the same string as Pothos'
 * encodeGlobalID (base64 of the UTF-8 of "<Type>:<id>"), made faster for the
 * ids it is nearly always given (UUIDs, all ASCII): btoa takes the string as it
 * is, where Buffer.from copies it into a buffer first, three times the cost, on
 * each of the thousand nodes of a dashboard page. btoa reads characters as
 * Latin-1, which equals UTF-8 for ASCII only; anything else goes through Buffer.
 */
export function encodeGlobalId(typename: string, id: string | number | bigint): string {
  const text = `${typename}:${id}`;
  return ASCII.test(text) ? btoa(text) : Buffer.from(text, 'utf8').toString('base64');
}

/** The database id behind `sent` if it is a global id of `typename`, else null. */
export function idOf(sent: string | number, typename: string): string | null {
  let decoded: { typename: string; id: string };
  try {
    decoded = decodeGlobalID(String(sent));
  } catch {
    return null;
  }
  return decoded.typename === typename && UUID.test(decoded.id) ? decoded.id : null;
}

/**
 * A database id no row has (gen_random_uuid never returns the nil UUID): what a
 * filter on an id that names nothing filters on, so that it matches nothing.
 */
export const NO_ROW_ID = '00000000-0000-0000-0000-000000000000';

/** For filters: the database id behind `sent`, or NO_ROW_ID. */
export const filterIdOf = (sent: string | number, typename: string): string => idOf(sent, typename) ?? NO_ROW_ID;

/** The database id behind `sent`, a global id of `typename`; NotFoundError(entity, sent) otherwise. */
export function decodeId(sent: string | number, typename: string, entity: string): string {
  const id = idOf(sent, typename);
  if (id === null) throw new NotFoundError(entity, String(sent));
  return id;
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
