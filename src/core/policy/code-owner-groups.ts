/**
 * Who may approve each changed path under a gate with `approvers: codeowners`: the owners the
 * default branch's CODEOWNERS gives it, teams expanded to their members, kept only where the
 * organisation config maps them to a person (as every approver is). Paths with the same owners are
 * one group: one approval from any of its owners covers all of them. A path nobody may approve is
 * a group with no owners and a reason; the tally then says the gate cannot pass. Pure.
 */
import { loginKey } from '../people.js';
import { type CodeOwners, ownerLineOf, parseCodeOwners, parseOwner } from './codeowners.js';
import type { ChangedFile } from './pull-request-facts.js';

/** The default branch's CODEOWNERS as the adapter read it, with the teams it names expanded. */
export interface CodeOwnersFacts {
  /** Where GitHub found it (`.github/CODEOWNERS`, `CODEOWNERS`, `docs/CODEOWNERS`); null: nowhere. */
  file: string | null;
  /** Its text; null when there is none, or it could not be read (then `unreadable` says why). */
  text: string | null;
  unreadable?: string;
  /** Each team it names (`org/slug`, lower case): its members' logins, or why they are not known. */
  teams: Record<string, string[] | { unknown: string }>;
}

/** Paths with the same owners. */
export interface CodeOwnerGroup {
  paths: string[];
  /** Logins that may approve these paths (owners the organisation config maps to people). */
  owners: string[];
  /** Owners named that are never counted: not mapped to a person, an email, an unreadable team. */
  unmapped: string[];
  /** Why nobody may approve these paths, when nobody may. */
  why: string | null;
}

export function codeOwnerGroups(
  facts: CodeOwnersFacts | undefined,
  files: readonly ChangedFile[],
  approvers: readonly { github: string }[],
  organisation: string,
): CodeOwnerGroup[] {
  const known = new Map(approvers.map((a) => [loginKey(a.github), a.github]));
  const parsed = facts?.text ? parseCodeOwners(facts.text, facts.file ?? 'CODEOWNERS') : null;
  // A renamed file leaves its old path too: that path's owners must agree as well.
  const paths = [...new Set(files.flatMap((f) => (f.previousPath ? [f.path, f.previousPath] : [f.path])))];
  const groups = new Map<string, CodeOwnerGroup>();
  for (const path of paths.sort()) {
    const group = ownersOfPath(facts, parsed, path, known, organisation);
    const key = JSON.stringify([group.owners, group.unmapped, group.why]);
    const seen = groups.get(key);
    if (seen) seen.paths.push(path);
    else groups.set(key, { ...group, paths: [path] });
  }
  return [...groups.values()];
}

function ownersOfPath(
  facts: CodeOwnersFacts | undefined,
  parsed: CodeOwners | null,
  path: string,
  known: Map<string, string>,
  organisation: string,
): Omit<CodeOwnerGroup, 'paths'> {
  const none = (why: string) => ({ owners: [], unmapped: [], why });
  if (!facts?.file) return none('no CODEOWNERS file on the default branch');
  if (!parsed) return none(`${facts.file} could not be read (${facts.unreadable ?? 'empty'})`);
  const line = ownerLineOf(parsed, path);
  if (!line) return none(`no line of ${facts.file} matches it`);
  if (line.owners.length === 0)
    return none(`${facts.file}:${line.line} (\`${line.pattern}\`) names no owner`);
  const owners = new Set<string>();
  const unmapped: string[] = [];
  for (const token of line.owners) {
    const owner = parseOwner(token)!;
    if (owner.kind === 'email') unmapped.push(`${token} (an email: name the GitHub login)`);
    else if (owner.kind === 'user') {
      const login = known.get(loginKey(owner.login));
      if (login) owners.add(login);
      else unmapped.push(`${token} (not an approver of the organisation config)`);
    } else {
      const members =
        loginKey(owner.org) === loginKey(organisation) ? facts.teams[teamKey(owner)] : undefined;
      if (members === undefined) unmapped.push(`${token} (a team of another organisation)`);
      else if (!Array.isArray(members)) unmapped.push(`${token} (${members.unknown})`);
      else
        for (const m of members) {
          const login = known.get(loginKey(m));
          if (login) owners.add(login);
          else unmapped.push(`@${m} of ${token} (not an approver of the organisation config)`);
        }
    }
  }
  const sorted = [...owners].sort();
  return {
    owners: sorted,
    unmapped,
    why: sorted.length
      ? null
      : `no owner ${facts.file}:${line.line} (\`${line.pattern}\`) names may approve: ${unmapped.join(', ')}`,
  };
}

export function teamKey(team: { org: string; slug: string }): string {
  return `${team.org}/${team.slug}`.toLowerCase();
}

/** The teams of `organisation` a CODEOWNERS names: the adapter reads their members. */
export function teamsNamed(text: string, organisation: string): { org: string; slug: string }[] {
  const teams = new Map<string, { org: string; slug: string }>();
  for (const line of parseCodeOwners(text, 'CODEOWNERS').lines)
    for (const token of line.owners) {
      const owner = parseOwner(token);
      if (owner?.kind === 'team' && loginKey(owner.org) === loginKey(organisation))
        teams.set(teamKey(owner), { org: owner.org, slug: owner.slug });
    }
  return [...teams.values()];
}
