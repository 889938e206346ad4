import { createWriteStream, fchmodSync, openSync, readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { type SignedHead, signedHeadSchema, verifySignedHead } from '../../ledger/checkpoints.js';
import { UserError } from '../../platform/errors.js';

/** A file for an export, readable by its owner only (whatever the umask, and if it existed before). */
export function privateFile(path: string): Writable {
  const fd = openSync(path, 'w', 0o600);
  fchmodSync(fd, 0o600);
  return createWriteStream('', { fd });
}

export function readHeadFile(path: string): SignedHead {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UserError(
      'head_file_unreadable',
      `cannot read the head file ${path}: ${(error as Error).message}`,
    );
  }
  const head = signedHeadSchema.safeParse(json);
  if (!head.success)
    throw new UserError('head_file_invalid', `${path} is not a head exported by \`agov ledger head\``);
  // The operator's own file, kept off the host: it only adds a head the chain must reach, so it
  // is checked against the key it names; `verify --public-key` checks that key too.
  if (!verifySignedHead(head.data, head.data.publicKey)) {
    throw new UserError(
      'head_file_forged',
      `the signature of ${path} does not match its content: it was altered`,
    );
  }
  return head.data;
}

export function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UserError(
      `${what.replace(' ', '_')}_file_unreadable`,
      `cannot read the ${what} file ${path}: ${(error as Error).message}`,
    );
  }
}

export function parseSeq(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new UserError('usage', `expected a non-negative whole number, got "${value}"`);
  return n;
}
