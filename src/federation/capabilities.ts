// The merged capabilities of the live peers. Deterministic whatever the order
// in which peers are given: flags are OR-ed, objects merged key by key, arrays
// united, and conflicting scalars resolved by a fixed (sorted) choice.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (v: unknown): v is Record<string, Json> => !!v && typeof v === 'object' && !Array.isArray(v);

function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    isObject(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v,
  );
}

function mergeTwo(a: Json | undefined, b: Json): Json {
  if (a === undefined) return b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return a || b;
  if (isObject(a) && isObject(b)) {
    const out: Record<string, Json> = { ...a };
    for (const [key, value] of Object.entries(b)) out[key] = mergeTwo(out[key], value);
    return out;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const byKey = new Map([...a, ...b].map((v) => [canonical(v), v]));
    return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
  }
  // Mismatched or scalar values: keep the larger canonical form, independent of order.
  return canonical(a) >= canonical(b) ? a : b;
}

function sortKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (isObject(value)) return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys(value[k]!)]));
  return value;
}

export function mergeCapabilities(capabilities: unknown[]): Record<string, Json> {
  let merged: Json | undefined;
  for (const caps of capabilities) if (isObject(caps)) merged = mergeTwo(merged, caps);
  return isObject(merged) ? (sortKeys(merged) as Record<string, Json>) : {};
}
