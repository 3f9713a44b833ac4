// Which peer URLs we agree to call. Link-local and cloud metadata endpoints are
// never allowed (a registered "peer" there would leak instance credentials);
// private and loopback ranges are allowed unless the operator blocks them.
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { ValidationError } from '../errors.js';

const ALWAYS_BLOCKED = new BlockList();
ALWAYS_BLOCKED.addSubnet('169.254.0.0', 16, 'ipv4');
ALWAYS_BLOCKED.addSubnet('fe80::', 10, 'ipv6');
ALWAYS_BLOCKED.addAddress('fd00:ec2::254', 'ipv6');
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

export interface UrlPolicyOptions {
  blockPrivateNetworks: boolean;
  /** Resolves a host name to its addresses (injectable for tests). */
  resolve?: (host: string) => Promise<string[]>;
}

const defaultResolve = async (host: string) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

function family(address: string): 'ipv4' | 'ipv6' {
  return isIP(address) === 6 ? 'ipv6' : 'ipv4';
}

function mappedV4(address: string): string | null {
  const match = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return match ? match[1]! : null;
}

function checkAddress(address: string, options: UrlPolicyOptions, field: string): void {
  const plain = mappedV4(address) ?? address;
  if (ALWAYS_BLOCKED.check(plain, family(plain))) {
    throw new ValidationError(field, `peer address ${plain} is link-local or a cloud metadata endpoint and is never allowed`);
  }
  if (options.blockPrivateNetworks && PRIVATE.check(plain, family(plain))) {
    throw new ValidationError(field, `peer address ${plain} is in a private or loopback range (PEER_BLOCK_PRIVATE_NETWORKS=true)`);
  }
}

/** Parses and vets a peer URL; returns it normalised. Throws ValidationError. */
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
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase().replace(/\.$/, '');
  if (METADATA_HOSTS.has(host)) throw new ValidationError(field, `${host} is a cloud metadata host and is never allowed`);
  const addresses = isIP(host) ? [host] : await (options.resolve ?? defaultResolve)(host).catch(() => {
    throw new ValidationError(field, `host ${host} does not resolve`);
  });
  for (const address of addresses) checkAddress(address, options, field);
  url.hash = '';
  return url.toString();
}
