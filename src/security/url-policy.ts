// Which peer URLs and addresses we agree to call. Link-local, unspecified and
// cloud metadata addresses are never allowed (a registered "peer" there would
// leak instance credentials, or reach this host); private and loopback ranges
// are allowed unless the operator blocks them. An IPv6 address that carries an
// IPv4 one (mapped, compatible, NAT64, 6to4) is judged as that IPv4 address.
//
// addressRefusal() is the one judgement: checkPeerUrl() applies it when a URL
// is given, and the outbound HTTP agent (federation/http-agent.ts) applies it
// again to every address it is about to connect to.
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { ValidationError } from '../errors.js';

const ALWAYS_BLOCKED = new BlockList();
ALWAYS_BLOCKED.addSubnet('169.254.0.0', 16, 'ipv4');
ALWAYS_BLOCKED.addSubnet('fe80::', 10, 'ipv6');
ALWAYS_BLOCKED.addAddress('fd00:ec2::254', 'ipv6');
// "This host": 0.0.0.0 (and :: below, which carries it) connects to this machine.
ALWAYS_BLOCKED.addSubnet('0.0.0.0', 8, 'ipv4');

const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['127.0.0.0', 8],
  ['100.64.0.0', 10],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv4');
}
PRIVATE.addSubnet('fc00::', 7, 'ipv6');
PRIVATE.addAddress('::1', 'ipv6');

const METADATA_HOSTS = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'metadata.azure.com',
  'instance-data',
  'instance-data.ec2.internal',
]);

/**
 * Ports WHATWG fetch refuses to connect to (the Fetch standard's "bad ports";
 * undici's list, which test/security/url-policy.test.ts keeps this in step with).
 */
export const BAD_PORTS: ReadonlySet<number> = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117,
  119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636,
  989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

export interface AddressPolicy {
  /** PEER_BLOCK_PRIVATE_NETWORKS: refuse private and loopback ranges too. */
  blockPrivateNetworks: boolean;
}

export interface UrlPolicyOptions extends AddressPolicy {
  /** Resolves a host name to its addresses (injectable for tests). */
  resolve?: (host: string) => Promise<string[]>;
}

const defaultResolve = async (host: string) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/** A host as URLs and sockets spell it: without brackets, zone id or trailing dot, lower case. */
function bareHost(host: string): string {
  return host.replace(/^\[|\]$/g, '').replace(/%.*$/, '').replace(/\.$/, '').toLowerCase();
}

/** The eight 16-bit groups of an IPv6 address (a trailing dotted quad counts as two). */
function ipv6Groups(address: string): number[] {
  let text = address;
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const groups = (part: string | undefined) => (part ? part.split(':').map((hex) => parseInt(hex, 16)) : []);
  const [head, tail] = text.split('::');
  if (tail === undefined) return groups(head);
  const before = groups(head);
  const after = groups(tail);
  return [...before, ...Array<number>(8 - before.length - after.length).fill(0), ...after];
}

const dotted = (high: number, low: number) => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;

/**
 * The IPv4 address an IPv6 address stands for, or null: IPv4-mapped
 * (::ffff:a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d), IPv4-compatible
 * (::a.b.c.d, and so the unspecified :: as 0.0.0.0, but not the loopback ::1),
 * NAT64 with the well-known prefix (64:ff9b::a.b.c.d) and 6to4 (2002:abcd:…).
 */
export function embeddedIPv4(address: string): string | null {
  const bare = bareHost(address);
  if (isIP(bare) !== 6) return null;
  const g = ipv6Groups(bare);
  const zero = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zero(0, 5) && g[5] === 0xffff) return dotted(g[6]!, g[7]!);
  if (zero(0, 4) && g[4] === 0xffff && g[5] === 0) return dotted(g[6]!, g[7]!);
  if (zero(0, 6) && !(g[6] === 0 && g[7] === 1)) return dotted(g[6]!, g[7]!);
  if (g[0] === 0x64 && g[1] === 0xff9b && zero(2, 6)) return dotted(g[6]!, g[7]!);
  if (g[0] === 0x2002) return dotted(g[1]!, g[2]!);
  return null;
}

/**
 * Why the policy refuses to connect to this IP address, or null when it may.
 * The one judgement of addresses: URL checks and connect-time vetting both use it.
 */
export function addressRefusal(address: string, policy: AddressPolicy): string | null {
  const bare = bareHost(address);
  const version = isIP(bare);
  if (version === 0) return `peer address ${JSON.stringify(address.slice(0, 100))} is not an IP address`;
  const carried = version === 6 ? embeddedIPv4(bare) : null;
  const [plain, family] = version === 4 ? [bare, 'ipv4' as const] : carried ? [carried, 'ipv4' as const] : [bare, 'ipv6' as const];
  const shown = carried ? `${carried} (carried by ${bare})` : bare;
  if (ALWAYS_BLOCKED.check(plain, family)) {
    return `peer address ${shown} is link-local, unspecified or a cloud metadata endpoint and is never allowed`;
  }
  if (policy.blockPrivateNetworks && PRIVATE.check(plain, family)) {
    return `peer address ${shown} is in a private or loopback range (PEER_BLOCK_PRIVATE_NETWORKS=true)`;
  }
  return null;
}

/**
 * Why the policy refuses a host before any lookup, or null: an IP literal is
 * judged by addressRefusal(), a name only when it is a cloud metadata host
 * (other names are judged by the addresses they resolve to).
 */
export function hostRefusal(host: string, policy: AddressPolicy): string | null {
  const bare = bareHost(host);
  if (isIP(bare)) return addressRefusal(bare, policy);
  if (METADATA_HOSTS.has(bare)) return `${bare} is a cloud metadata host and is never allowed`;
  return null;
}

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/** RFC 3986 §6.2.2: escapes of unreserved characters decoded, the other escapes in upper case. */
function normalEscapes(text: string): string {
  return text.replace(/%([0-9A-Fa-f]{2})/g, (_escape, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
}

/**
 * One spelling per peer URL, so that the same peer cannot be registered twice:
 * the WHATWG serialisation (lower-case scheme and host, no default port, dot
 * segments resolved, IP addresses in one form), without the fragment, with
 * escapes normalised, and without empty query parameters (a trailing `?` or
 * `&`). Host names are not resolved. Throws TypeError on an invalid URL.
 */
export function normalizePeerUrl(raw: string | URL): string {
  const url = new URL(raw);
  url.hash = '';
  url.pathname = normalEscapes(url.pathname);
  url.search = url.search
    .slice(1)
    .split('&')
    .filter((part) => part !== '')
    .map(normalEscapes)
    .join('&');
  return url.href;
}

/** Parses and vets a peer URL; returns it normalised (normalizePeerUrl). Throws ValidationError. */
export async function checkPeerUrl(raw: string, options: UrlPolicyOptions, field = 'url'): Promise<string> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ValidationError(field, 'not a valid absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ValidationError(field, `only http and https URLs are allowed, not ${url.protocol.replace(':', '')}`);
  }
  if (url.username || url.password) {
    throw new ValidationError(field, 'credentials do not belong in the URL; use the auth input');
  }
  // url.port is empty for the scheme's default port.
  if (url.port && BAD_PORTS.has(Number(url.port))) {
    throw new ValidationError(field, `port ${url.port} is one that fetch refuses to connect to (a "bad port" of the Fetch standard); use another port`);
  }
  const host = bareHost(url.hostname);
  const refusal = hostRefusal(host, options);
  if (refusal) throw new ValidationError(field, refusal);
  if (!isIP(host)) {
    const addresses = await (options.resolve ?? defaultResolve)(host).catch(() => {
      throw new ValidationError(field, `host ${host} does not resolve`);
    });
    for (const address of addresses) {
      const why = addressRefusal(address, options);
      if (why) throw new ValidationError(field, why);
    }
  }
  return normalizePeerUrl(url);
}
