/** What a code-owners gate still needs: the groups of changed paths no counted approval covers. */
import { loginKey } from '../people.js';
import type { GateRule, GateTally } from './gate-tally.js';

/**
 * A code-owners gate's groups of paths that no counted approval covers yet, each with the owners
 * who may still approve it; `blocked` when one of them has nobody left.
 */
export function ownersStillNeeded(
  rule: GateRule,
  approvedBy: readonly string[],
  mayStill: (login: string) => boolean,
): { missing: GateTally['missingOwners']; mayApprove: string[]; blocked: boolean } {
  const approved = new Set(approvedBy.map(loginKey));
  const missing = (rule.codeOwners ?? [])
    .filter((g) => !g.owners.some((o) => approved.has(loginKey(o))))
    .map((g) => ({ paths: g.paths, owners: g.owners.filter(mayStill), why: g.why }));
  return {
    missing,
    mayApprove: [...new Set(missing.flatMap((g) => g.owners))].sort(),
    blocked: missing.some((g) => g.owners.length === 0),
  };
}

const MAX_SHOWN = 5;

/** `a`, `b`, `c` and 4 more: a card has room for a few paths, not for 3,000. */
function someOf(items: readonly string[], quote = '`'): string {
  const shown = items.slice(0, MAX_SHOWN).map((p) => `${quote}${p}${quote}`);
  return items.length > MAX_SHOWN
    ? `${shown.join(', ')} and ${items.length - MAX_SHOWN} more`
    : shown.join(', ');
}

/** The paths still missing an owner's approval, group by group. */
export function describeOwners(t: Pick<GateTally, 'missingOwners'>, blockedOnly: boolean): string {
  const groups = t.missingOwners.filter((g) => !blockedOnly || g.owners.length === 0);
  const parts = groups
    .slice(0, MAX_SHOWN)
    .map((g) =>
      g.owners.length
        ? `${someOf(g.paths)} (from ${g.owners.join(', ')})`
        : `${someOf(g.paths)}: ${g.why ?? 'every owner is barred or has voted'}`,
    );
  const more = groups.length > MAX_SHOWN ? `; and ${groups.length - MAX_SHOWN} more groups of paths` : '';
  return parts.join('; ') + more;
}
