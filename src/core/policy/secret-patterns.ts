/** Credentials that must never appear in added lines. Named, so a finding says what it saw. */
export const BUILT_IN_SECRET_PATTERNS: ReadonlyArray<{ name: string; pattern: RegExp }> = [
  { name: 'AWS access key id', pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { name: 'GitHub token', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})\b/ },
  { name: 'Slack token', pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/ },
  { name: 'private key', pattern: /-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY-----/ },
  { name: 'Stripe live key', pattern: /\b[sr]k_live_[A-Za-z0-9]{20,}\b/ },
  { name: 'Google API key', pattern: /\bAIza[0-9A-Za-z_-]{35}\b/ },
  { name: 'Vault token', pattern: /\bhvs\.[A-Za-z0-9_-]{24,}\b/ },
  {
    name: 'hard-coded credential',
    pattern: /\b(?:api[_-]?key|secret|passw(?:or)?d|access[_-]?token)\b["']?\s*[:=]\s*["'][^"'\s]{12,}["']/i,
  },
];
