import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { SecretBox } from '../../src/security/secret-box.js';

describe('SecretBox', () => {
  test('seals with AES-256-GCM: round trip, fresh IV each time, tampering detected', () => {
    const box = SecretBox.fromKey(randomBytes(32));
    const a = box.seal('hunter2');
    const b = box.seal('hunter2');
    expect(a).not.toBe(b);
    expect(a).not.toContain('hunter2');
    expect(box.open(a)).toBe('hunter2');
    const [v, iv, body, tag] = a.split('.');
    const flipped = Buffer.from(body!, 'base64url');
    flipped[0] = flipped[0]! ^ 1;
    expect(() => box.open([v, iv, flipped.toString('base64url'), tag].join('.'))).toThrow();
    expect(() => SecretBox.fromKey(randomBytes(32)).open(a)).toThrow();
  });

  test('SECRET_KEY is accepted as base64 or hex', async () => {
    const key = randomBytes(32);
    const fromB64 = await SecretBox.load(key.toString('base64'), '/nonexistent');
    const fromHex = await SecretBox.load(key.toString('hex'), '/nonexistent');
    expect(fromHex.open(fromB64.seal('x'))).toBe('x');
  });

  test('without SECRET_KEY a key is generated into the data directory with mode 0600 and reused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'box-'));
    const first = await SecretBox.load(undefined, dir);
    const file = join(dir, 'secret.key');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(Buffer.from((await readFile(file, 'utf8')).trim(), 'base64')).toHaveLength(32);
    const second = await SecretBox.load(undefined, dir);
    expect(second.open(first.seal('persisted'))).toBe('persisted');
  });

  test('fingerprints are keyed: same input same digest, other key other digest', () => {
    const box = SecretBox.fromKey(randomBytes(32));
    expect(box.fingerprint('a')).toBe(box.fingerprint('a'));
    expect(box.fingerprint('a')).not.toBe(box.fingerprint('b'));
    expect(SecretBox.fromKey(randomBytes(32)).fingerprint('a')).not.toBe(box.fingerprint('a'));
  });
});
