/**
 * Every secret pattern, built-in or from a policy file, runs through one matcher backed by RE2
 * (re2js, a pure JavaScript port): its running time grows linearly with the line, never
 * exponentially as a backtracking `RegExp` does on patterns such as `internal-([0-9a-f]+)+-key`.
 * RE2 has no backreferences or lookaround, so such a pattern is refused when the policy is read.
 */
import { RE2JS } from 're2js';

export interface SecretMatcher {
  /** What a finding says it saw, e.g. `AWS access key id` or `policy pattern 2`. */
  name: string;
  /** True when the pattern occurs anywhere in `text` (one added line). */
  test(text: string): boolean;
}

export type CompiledPattern = { ok: true; matcher: SecretMatcher } | { ok: false; reason: string };

/**
 * Compiled patterns by source: a policy is resolved on every evaluation, and compiling is the
 * costly part. Bounded (each may keep a DFA cache of a few MB), so many distinct policies cannot
 * grow it without end.
 */
const cache = new Map<string, RE2JS | string>();
const CACHE_LIMIT = 64;

function compiled(pattern: string): RE2JS | string {
  const hit = cache.get(pattern);
  if (hit !== undefined) return hit;
  let value: RE2JS | string;
  try {
    value = RE2JS.compile(pattern);
  } catch (error) {
    value = reasonOf(error);
  }
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(pattern, value);
  return value;
}

/** RE2's own words, without the "error parsing regexp:" prefix every message carries. */
function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^error parsing regexp:\s*/, '');
}

/** Compiles a pattern for RE2, or says why RE2 cannot run it. */
export function compileSecretPattern(pattern: string, name: string): CompiledPattern {
  const re = compiled(pattern);
  if (typeof re === 'string') return { ok: false, reason: re };
  return { ok: true, matcher: { name, test: (text) => re.test(text) } };
}

/** The matcher of a pattern already validated (built-in, or accepted by the policy schema). */
export function secretMatcher(pattern: string, name: string): SecretMatcher {
  const result = compileSecretPattern(pattern, name);
  if (!result.ok) throw new Error(`secret pattern ${name} does not compile for RE2: ${result.reason}`);
  return result.matcher;
}
