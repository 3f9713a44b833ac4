import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { authFingerprint } from '../../src/federation/auth-storage.js';
import { SecretBox } from '../../src/security/secret-box.js';
import { addressRefusal, BAD_PORTS, checkPeerUrl, embeddedIPv4, normalizePeerUrl } from '../../src/security/url-policy.js';

const open = { blockPrivateNetworks: false, resolve: async () => ['93.184.216.34'] };
const strict = { ...open, blockPrivateNetworks: true };

async function refusal(url: string, options = open, field = 'url'): Promise<string> {
  const error = await checkPeerUrl(url, options, field).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationError);
  expect((error as ValidationError).field).toBe(field);
  return (error as ValidationError).message;
}

describe('peer URL policy', () => {
  test('accepts http and https, and normalises', async () => {
    expect(await checkPeerUrl('https://peer.example/mcp#frag', open)).toBe('https://peer.example/mcp');
    expect(await checkPeerUrl('http://127.0.0.1:8080/mcp', open)).toBe('http://127.0.0.1:8080/mcp');
  });

  test('refuses other schemes, garbage and credentials in the URL', async () => {
    expect(await refusal('ftp://peer.example/')).toMatch(/only http and https/);
    expect(await refusal('file:///etc/passwd')).toMatch(/only http and https/);
    expect(await refusal('not a url')).toMatch(/valid absolute URL/);
    const message = await refusal('https://user:hunter2@peer.example/mcp');
    expect(message).toMatch(/credentials/);
    expect(message).not.toContain('hunter2');
  });

  test('always refuses link-local and cloud metadata addresses', async () => {
    expect(await refusal('http://169.254.169.254/latest/meta-data')).toMatch(/metadata/);
    expect(await refusal('http://[fd00:ec2::254]/')).toMatch(/metadata/);
    expect(await refusal('http://[::ffff:169.254.169.254]/')).toMatch(/link-local/);
    expect(await refusal('http://metadata.google.internal/')).toMatch(/metadata host/);
    expect(await refusal('http://METADATA.google.internal./')).toMatch(/metadata host/);
    // A friendly name that resolves to the metadata address is refused too.
    expect(await refusal('http://sneaky.example/', { ...open, resolve: async () => ['169.254.169.254'] })).toMatch(/169\.254\.169\.254/);
  });

  test('private and loopback ranges only when PEER_BLOCK_PRIVATE_NETWORKS is set', async () => {
    for (const url of ['http://10.1.2.3/', 'http://172.16.0.1/', 'http://192.168.1.1/', 'http://127.0.0.1/', 'http://[::1]/', 'http://[fd12::1]/']) {
      await expect(checkPeerUrl(url, open)).resolves.toBe(new URL(url).toString());
      expect(await refusal(url, strict)).toMatch(/private or loopback/);
    }
    expect(await refusal('http://intranet.example/', { ...strict, resolve: async () => ['10.0.0.5'] })).toMatch(/10\.0\.0\.5/);
    await expect(checkPeerUrl('https://peer.example/', strict)).resolves.toBe('https://peer.example/');
  });

  test('a host that does not resolve is refused clearly', async () => {
    const failing = { ...open, resolve: async () => Promise.reject(new Error('ENOTFOUND')) };
    expect(await refusal('https://nowhere.invalid/', failing)).toMatch(/does not resolve/);
  });
});

describe('IPv4 addresses carried in IPv6 spellings', () => {
  test('embeddedIPv4 reads the IPv4 address out of each spelling, and nothing out of plain IPv6', () => {
    expect(embeddedIPv4('::')).toBe('0.0.0.0');
    expect(embeddedIPv4('0::')).toBe('0.0.0.0');
    expect(embeddedIPv4('::0.0.0.0')).toBe('0.0.0.0');
    expect(embeddedIPv4('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(embeddedIPv4('::ffff:7f00:1')).toBe('127.0.0.1');
    expect(embeddedIPv4('[::FFFF:7F00:1]')).toBe('127.0.0.1');
    expect(embeddedIPv4('0:0:0:0:0:ffff:a9fe:a9fe')).toBe('169.254.169.254');
    expect(embeddedIPv4('::169.254.169.254')).toBe('169.254.169.254');
    expect(embeddedIPv4('::ffff:0:10.1.2.3')).toBe('10.1.2.3');
    expect(embeddedIPv4('64:ff9b::127.0.0.1')).toBe('127.0.0.1');
    expect(embeddedIPv4('64:ff9b::a9fe:a9fe')).toBe('169.254.169.254');
    expect(embeddedIPv4('2002:c0a8:101::1')).toBe('192.168.1.1');
    // The loopback ::1 is IPv6's own, not 0.0.0.1; other addresses carry nothing.
    expect(embeddedIPv4('::1')).toBeNull();
    expect(embeddedIPv4('fd12::1')).toBeNull();
    expect(embeddedIPv4('2606:4700:4700::1111')).toBeNull();
    expect(embeddedIPv4('64:ff9b:1::1')).toBeNull();
    expect(embeddedIPv4('127.0.0.1')).toBeNull();
  });

  // Every spelling, as a URL host and as what a name resolves to.
  const always = [
    ...['::', '0::', '::0.0.0.0', '0:0:0:0:0:0:0:0'], // unspecified: this host
    ...['::169.254.169.254', '::ffff:169.254.169.254', '::ffff:0:169.254.169.254', '64:ff9b::169.254.169.254', '2002:a9fe:a9fe::1'],
  ];
  const privateOnes = [
    ...['::ffff:127.0.0.1', '::127.0.0.1', '::ffff:0:127.0.0.1', '64:ff9b::127.0.0.1', '2002:7f00:1::1'],
    ...['64:ff9b::10.0.0.1', '::ffff:192.168.1.1', '::ffff:100.64.0.1'],
  ];
  const publicOnes = ['::ffff:93.184.216.34', '64:ff9b::93.184.216.34', '2002:5db8:d822::1', '2606:4700:4700::1111'];

  test.each(always)('[%s] is refused whether or not private networks are blocked', async (address) => {
    for (const policy of [open, strict]) {
      expect(addressRefusal(address, policy)).toMatch(/never allowed/);
      expect(await refusal(`http://[${address}]:8080/mcp`, policy)).toMatch(/never allowed/);
      expect(await refusal('http://rebound.example/', { ...policy, resolve: async () => [address] })).toMatch(/never allowed/);
      expect(await refusal(`http://[${address}]/token`, policy, 'auth.oauth2ClientCredentials.tokenUrl')).toMatch(/never allowed/);
    }
  });

  test.each(privateOnes)('[%s] is refused as the private IPv4 address it carries when private networks are blocked', async (address) => {
    const carried = embeddedIPv4(address)!;
    expect(addressRefusal(address, open)).toBeNull();
    await expect(checkPeerUrl(`http://[${address}]:8080/mcp`, open)).resolves.toMatch(/^http:\/\/\[/);
    const message = addressRefusal(address, strict);
    expect(message).toMatch(/private or loopback/);
    expect(message).toContain(carried);
    expect(await refusal(`http://[${address}]:8080/mcp`, strict)).toMatch(/private or loopback/);
    expect(await refusal('http://rebound.example/', { ...strict, resolve: async () => [address] })).toContain(carried);
  });

  test.each(publicOnes)('[%s] is allowed even when private networks are blocked', async (address) => {
    expect(addressRefusal(address, strict)).toBeNull();
    await expect(checkPeerUrl(`https://[${address}]/mcp`, strict)).resolves.toMatch(/^https:\/\/\[/);
  });

  test('IPv6 loopback is loopback, not 0.0.0.1: allowed unless private networks are blocked', () => {
    expect(addressRefusal('::1', open)).toBeNull();
    expect(addressRefusal('::1', strict)).toMatch(/private or loopback/);
  });

  test('anything that is not an IP address is refused by the address judgement', () => {
    expect(addressRefusal('localhost', open)).toMatch(/not an IP address/);
  });
});

describe('URL normalisation', () => {
  test.each([
    ['a trailing ?', 'http://127.0.0.1:8080/mcp?'],
    ['a trailing &', 'http://127.0.0.1:8080/mcp?&'],
    ['&& and a trailing &', 'http://127.0.0.1:8080/mcp?&&'],
    ['an escaped unreserved character', 'http://127.0.0.1:8080/%6Dcp'],
    ['escaped unreserved characters in lower-case hex', 'http://127.0.0.1:8080/%6d%63%70'],
    ['an upper-case scheme', 'HTTP://127.0.0.1:8080/mcp'],
    ['a fragment', 'http://127.0.0.1:8080/mcp#top'],
    ['dot segments', 'http://127.0.0.1:8080/a/../mcp'],
    ['all of them', 'HTTP://127.0.0.1:8080/./%6Dcp?#x'],
  ])('%s is the same URL', (_label, spelling) => {
    expect(normalizePeerUrl(spelling)).toBe('http://127.0.0.1:8080/mcp');
  });

  test('host case, escapes in the host and an explicit default port are the same URL', () => {
    expect(normalizePeerUrl('http://Peer.EXAMPLE:80/mcp')).toBe('http://peer.example/mcp');
    expect(normalizePeerUrl('https://peer.example:443/mcp')).toBe('https://peer.example/mcp');
    expect(normalizePeerUrl('http://%70eer.example:080/mcp')).toBe('http://peer.example/mcp');
    expect(normalizePeerUrl('http://[0:0:0:0:0:0:0:1]:8080/mcp')).toBe('http://[::1]:8080/mcp');
  });

  test('the query keeps its order and its non-empty parameters; escapes of other characters stay, in upper case', () => {
    expect(normalizePeerUrl('http://p.example/mcp?&b=%7e2&&a=1&')).toBe('http://p.example/mcp?b=~2&a=1');
    expect(normalizePeerUrl('http://p.example/a%2fb?x=%2f')).toBe('http://p.example/a%2Fb?x=%2F');
  });

  test('URLs that may name other resources stay apart', () => {
    const distinct = [
      ...['http://p.example/mcp', 'http://p.example/mcp/', 'http://p.example/MCP', 'http://p.example/a%2Fb', 'http://p.example/a/b'],
      ...['http://p.example/mcp?a=1&b=2', 'http://p.example/mcp?b=2&a=1', 'http://p.example:8080/mcp', 'https://p.example/mcp'],
    ];
    expect(new Set(distinct.map((url) => normalizePeerUrl(url))).size).toBe(distinct.length);
  });

  test('normalising twice changes nothing, and checkPeerUrl returns the normal form', async () => {
    for (const spelling of ['HTTP://Peer.Example:80/%7Euser/./%6Dcp?&q=%2f&#f', 'https://p.example/a%2e%2E/b?', 'http://[::FFFF:93.184.216.34]:8080/?&']) {
      const once = normalizePeerUrl(spelling);
      expect(normalizePeerUrl(once)).toBe(once);
      expect(await checkPeerUrl(spelling, open)).toBe(once);
    }
  });

  test('the fingerprint of a gateway ignores the spelling of its URL and of its token URL', () => {
    const box = SecretBox.fromKey(randomBytes(32));
    const oauth = (tokenUrl: string) => ({ type: 'oauth2ClientCredentials' as const, tokenUrl, clientId: 'c', clientSecret: 's' });
    const fingerprint = authFingerprint('http://p.example/mcp', oauth('https://id.example/token'), box);
    expect(authFingerprint('HTTP://P.example:80/%6Dcp?&', oauth('https://ID.example:443/%74oken?'), box)).toBe(fingerprint);
    expect(authFingerprint('http://p.example/mcp/', oauth('https://id.example/token'), box)).not.toBe(fingerprint);
    expect(authFingerprint('http://p.example/mcp', oauth('https://id.example/token2'), box)).not.toBe(fingerprint);
  });
});

describe('ports fetch refuses', () => {
  test('the list is the one undici enforces', () => {
    const require = createRequire(import.meta.url);
    const constants = join(dirname(require.resolve('undici')), 'lib/web/fetch/constants.js');
    const { badPorts } = require(constants) as { badPorts: readonly string[] };
    expect([...BAD_PORTS].sort((a, b) => a - b)).toEqual(badPorts.map(Number).sort((a, b) => a - b));
  });

  test.each([9, 6000, 6666, 10080])('port %i is a ValidationError naming the port, on the URL and on the token URL', async (port) => {
    expect(await refusal(`http://93.184.216.34:${port}/mcp`)).toMatch(new RegExp(`\\bport ${port}\\b`));
    expect(await refusal(`https://id.example:${port}/token`, open, 'auth.oauth2ClientCredentials.tokenUrl')).toMatch(new RegExp(`\\bport ${port}\\b`));
  });

  test('default ports, spelt out or not, and ordinary ones pass', async () => {
    await expect(checkPeerUrl('http://peer.example:80/mcp', open)).resolves.toBe('http://peer.example/mcp');
    await expect(checkPeerUrl('https://peer.example:443/mcp', open)).resolves.toBe('https://peer.example/mcp');
    await expect(checkPeerUrl('http://peer.example:8080/mcp', open)).resolves.toBe('http://peer.example:8080/mcp');
    // 25 is a bad port for http, but it is not the port of this URL (https with its default port).
    await expect(checkPeerUrl('https://peer.example/25', open)).resolves.toBe('https://peer.example/25');
  });
});
