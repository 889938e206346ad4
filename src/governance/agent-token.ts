import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A new agent API token. Shown once; only its hash is kept. */
export function newAgentToken(agentId: string): string {
  return `agov_${agentId}_${randomBytes(32).toString('base64url')}`;
}

export function hashAgentToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function tokenMatches(token: string, expectedHash: string | null): boolean {
  if (!expectedHash) return false;
  const actual = Buffer.from(hashAgentToken(token), 'hex');
  const expected = Buffer.from(expectedHash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
