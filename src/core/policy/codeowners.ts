/**
 * GitHub's CODEOWNERS: who owns a path. Each line is a pattern and its owners (`@user`,
 * `@org/team`, `email@example.com`); the last matching line wins, and a matching line with no
 * owners leaves the path with none. Patterns follow gitignore with GitHub's differences: `!`
 * negation, `[ ]` ranges and a `\#` escape are not supported (the line is skipped, as GitHub does,
 * and said), and `docs/*` owns the files directly in `docs/`, not deeper ones. Paths are
 * case-sensitive. Each pattern runs in RE2 (linear time, whatever the file says). Pure.
 *
 * No npm library fits: those published match through gitignore engines (`ignore`), which get
 * `docs/*` wrong, and read the file system themselves.
 */
import { RE2JS } from 're2js';

export const CODEOWNERS_PATHS = ['.github/CODEOWNERS', 'CODEOWNERS', 'docs/CODEOWNERS'] as const;

export interface CodeOwnersLine {
  line: number;
  pattern: string;
  /** As written, `@` kept: `@alice`, `@acme/security`, `dev@example.com`. */
  owners: string[];
  test: (path: string) => boolean;
}

export interface CodeOwners {
  lines: CodeOwnersLine[];
  /** Lines or owners skipped, each `FILE:LINE: why`. */
  problems: string[];
}

export type Owner =
  | { kind: 'user'; login: string }
  | { kind: 'team'; org: string; slug: string }
  | { kind: 'email'; email: string };

export function parseOwner(token: string): Owner | null {
  const team = /^@([A-Za-z0-9][A-Za-z0-9-]*)\/([A-Za-z0-9][A-Za-z0-9._-]*)$/.exec(token);
  if (team) return { kind: 'team', org: team[1]!, slug: team[2]! };
  const user = /^@([A-Za-z0-9][A-Za-z0-9-]*(?:\[bot\])?)$/.exec(token);
  if (user) return { kind: 'user', login: user[1]! };
  if (/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(token)) return { kind: 'email', email: token };
  return null;
}

export function parseCodeOwners(text: string, file: string): CodeOwners {
  const lines: CodeOwnersLine[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const content = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!content) return;
    const [pattern, ...tokens] = content.split(/(?<!\\)\s+/);
    const unsupported = /^!|^\\#|[[\]]/.test(pattern!);
    if (unsupported) {
      problems.push(
        `${file}:${line}: "${pattern}" uses gitignore syntax CODEOWNERS does not support (! [ ] \\#): line skipped`,
      );
      return;
    }
    const owners = tokens.filter((t) => {
      if (parseOwner(t)) return true;
      problems.push(`${file}:${line}: "${t}" is not an owner (@user, @org/team or an email): ignored`);
      return false;
    });
    const re = RE2JS.compile(patternRegex(pattern!));
    lines.push({ line, pattern: pattern!, owners, test: (path) => re.test(path) });
  });
  return { lines, problems };
}

/** The line that decides who owns `path` (the last that matches), or null when none does. */
export function ownerLineOf(codeOwners: CodeOwners, path: string): CodeOwnersLine | null {
  for (let i = codeOwners.lines.length - 1; i >= 0; i--) {
    const line = codeOwners.lines[i]!;
    if (line.test(path)) return line;
  }
  return null;
}

/**
 * A pattern as an anchored regular expression over a path relative to the repository root. A
 * pattern with a slash at its start or in its middle is anchored at the root, one without matches
 * at any depth; a trailing slash matches only inside a directory; a match of a directory owns
 * everything under it, except after a final lone `*` (`docs/*`: direct children only).
 */
export function patternRegex(pattern: string): string {
  let p = pattern.replace(/\\ /g, ' ');
  const dirOnly = p.endsWith('/');
  if (dirOnly) p = p.replace(/\/+$/, '');
  const anchored = p.startsWith('/') || p.includes('/');
  p = p.replace(/^\/+/, '');
  const segments = p.split('/');
  let body = '';
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (segment === '**') {
      body += last ? '.*' : '(?:.*/)?';
      return;
    }
    body += segmentRegex(segment) + (last ? '' : '/');
  });
  const prefix = anchored ? '^' : '^(?:.*/)?';
  const lastSegment = segments.at(-1);
  const suffix =
    lastSegment === '**' ? '$' : dirOnly ? '/.*$' : lastSegment === '*' && anchored ? '$' : '(?:/.*)?$';
  // `foo/**` needs something inside foo; `**` alone matches everything.
  const inside = lastSegment === '**' && segments.length > 1 ? body.replace(/\.\*$/, '.+') : body;
  return prefix + inside + suffix;
}

function segmentRegex(segment: string): string {
  let out = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '\\' && i + 1 < segment.length) out += literal(segment[++i]!);
    else if (c === '*') {
      while (segment[i + 1] === '*') i++; // `a**b` is `a*b`
      out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else out += literal(c);
  }
  return out;
}

function literal(c: string): string {
  return /[\\^$.|?*+()[\]{}]/.test(c) ? `\\${c}` : c;
}
