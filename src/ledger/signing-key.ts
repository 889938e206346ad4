import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { UserError } from '../platform/errors.js';

export interface SigningKey {
  privateKey: KeyObject;
  /** The public key as base64 DER (SPKI), short enough to print and store beside a head. */
  publicKey: string;
}

/**
 * The ed25519 key that signs checkpoint heads: from `pem` when given (config), else from `path`,
 * generated there (mode 0600) on first use.
 */
export function loadSigningKey(options: { pem?: string | undefined; path: string }): SigningKey {
  let pem = options.pem;
  if (!pem) {
    if (!existsSync(options.path)) {
      const { privateKey } = generateKeyPairSync('ed25519');
      mkdirSync(dirname(options.path), { recursive: true });
      writeFileSync(options.path, privateKey.export({ type: 'pkcs8', format: 'pem' }), {
        mode: 0o600,
        flag: 'wx',
      });
    }
    pem = readFileSync(options.path, 'utf8');
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (error) {
    throw new UserError(
      'signing_key_invalid',
      `the ledger signing key is not a PEM private key: ${(error as Error).message}`,
    );
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new UserError('signing_key_invalid', 'the ledger signing key must be an ed25519 key');
  }
  const publicKey = createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).toString('base64');
  return { privateKey, publicKey };
}

export function signText(key: SigningKey, text: string): string {
  return sign(null, Buffer.from(text), key.privateKey).toString('base64');
}

export function verifySignature(publicKeyBase64: string, text: string, signature: string): boolean {
  try {
    const key = createPublicKey({ key: Buffer.from(publicKeyBase64, 'base64'), format: 'der', type: 'spki' });
    return verify(null, Buffer.from(text), key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** A public key as PEM, for a file kept off the host. */
export function publicKeyPem(publicKeyBase64: string): string {
  return createPublicKey({ key: Buffer.from(publicKeyBase64, 'base64'), format: 'der', type: 'spki' })
    .export({ type: 'spki', format: 'pem' })
    .toString();
}

/**
 * Reads an ed25519 public key given to the verifier: PEM (as `agov ledger head --public-key`
 * writes it) or base64 SPKI. Returns it as base64 SPKI, the form pinned in the ledger.
 */
export function readPublicKeyText(text: string, source: string): string {
  const trimmed = text.trim();
  let key: KeyObject;
  try {
    key = trimmed.startsWith('-----BEGIN')
      ? createPublicKey(trimmed)
      : createPublicKey({ key: Buffer.from(trimmed, 'base64'), format: 'der', type: 'spki' });
  } catch {
    throw new UserError(
      'public_key_invalid',
      `${source} is not a public key; write one with \`agov ledger head --public-key > FILE\``,
    );
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new UserError('public_key_invalid', `${source} is not an ed25519 public key`);
  return key.export({ type: 'spki', format: 'der' }).toString('base64');
}
