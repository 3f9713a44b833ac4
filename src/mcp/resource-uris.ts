// How /mcp names the resources of its peers. Two peers may both serve
// file:///README.md, so every resource is exposed under its gateway's slug:
//
//   mcp-federation://<slug>/<the peer's own URI, verbatim>
//   mcp-federation://docs/file:///README.md
//
// The peer's URI is kept verbatim (not percent-encoded), so a resource template
// maps the same way: mcp-federation://docs/file:///{path} expands, for any
// value, to the prefix followed by exactly what the peer's own template would
// have expanded to. Reading strips the prefix and forwards the rest unchanged.
// A chain of gateways nests the prefixes, one per hop.

export const FEDERATED_SCHEME = 'mcp-federation';

const PREFIX = `${FEDERATED_SCHEME}://`;
/** Gateway slugs (federation/naming.ts): lowercase letters, digits and dashes. */
const SLUG = /^[a-z0-9][a-z0-9-]*$/;

/** The URI (or URI template) clients see for a peer's `uri` on the gateway `slug`. */
export function exposedUri(slug: string, uri: string): string {
  return `${PREFIX}${slug}/${uri}`;
}

/** The gateway slug and the peer's own URI behind an exposed one; null if it is not one. */
export function peerUri(exposed: string): { slug: string; uri: string } | null {
  if (!exposed.startsWith(PREFIX)) return null;
  const rest = exposed.slice(PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return null;
  const slug = rest.slice(0, slash);
  const uri = rest.slice(slash + 1);
  if (!SLUG.test(slug) || uri.length === 0) return null;
  return { slug, uri };
}
