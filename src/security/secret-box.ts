// Peer credentials at rest: AES-256-GCM under SECRET_KEY, or under a key
// generated into the data directory (mode 0600) the first time we start.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { ensureDirectory } from '../data-dir.js';
import { join } from 'node:path';

const VERSION = 'v1';
const IV_BYTES = 12;

export class SecretBox {
  // A separate key for fingerprints: one key, one purpose.
  private readonly macKey: Buffer;

  private constructor(private readonly key: Buffer) {
    this.macKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'peer-credential-fingerprint', 32));
  }

  static fromKey(key: Buffer): SecretBox {
    if (key.length !== 32) throw new Error('the secret key must be 32 bytes');
    return new SecretBox(key);
  }

  /** SECRET_KEY (base64 or hex) if set, else DATA_DIR/secret.key, created if missing. */
  static async load(secretKey: string | undefined, dataDir: string): Promise<SecretBox> {
    if (secretKey) return SecretBox.fromKey(Buffer.from(secretKey, /^[0-9a-f]{64}$/i.test(secretKey) ? 'hex' : 'base64'));
    const file = join(dataDir, 'secret.key');
    try {
      return SecretBox.fromKey(Buffer.from((await readFile(file, 'utf8')).trim(), 'base64'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    await ensureDirectory(dataDir);
    // Written whole to a temporary file, then linked into place: a crash never
    // leaves an empty key file, and link() refuses to replace a key another
    // process published meanwhile (then we use theirs).
    const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await writeFile(temporary, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    try {
      await link(temporary, file).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
    } finally {
      await unlink(temporary);
    }
    return SecretBox.load(undefined, dataDir);
  }

  seal(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  open(sealed: string): string {
    const [version, iv, body, tag] = sealed.split('.');
    if (version !== VERSION || !iv || body === undefined || !tag) throw new Error('not a sealed secret');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  }

  /**
   * A value that tells keys apart without revealing them: an HMAC, under a key
   * of its own derived from this one, of a fixed text.
   */
  keyCheck(): string {
    const checkKey = Buffer.from(hkdfSync('sha256', this.key, Buffer.alloc(0), 'secret-key-check', 32));
    return `${VERSION}.${createHmac('sha256', checkKey).update('mcp-federation-gateway secret key').digest('hex')}`;
  }

  /** A keyed digest: compares credentials without storing them in the clear. */
  fingerprint(value: string): string {
    return createHmac('sha256', this.macKey).update(value).digest('hex');
  }
}
