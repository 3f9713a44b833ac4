import { describe, expect, test } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { checkPeerUrl } from '../../src/security/url-policy.js';

const open = { blockPrivateNetworks: false, resolve: async () => ['93.184.216.34'] };
const strict = { ...open, blockPrivateNetworks: true };

async function refusal(url: string, options = open): Promise<string> {
  const error = await checkPeerUrl(url, options).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationError);
  expect((error as ValidationError).field).toBe('url');
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
