import type { Annotation } from './decision.js';
import type { ChangedFile } from './pull-request-facts.js';
import type { SecretMatcher } from './secret-matcher.js';

export interface SecretScan {
  /** One failure annotation per added line that matches a pattern. */
  findings: Annotation[];
  /** Files whose new content the scan could not read, each with a warning annotation. */
  unscanned: Annotation[];
}

/**
 * Why a file's added content cannot be read from its facts, or null when every added line is
 * there. GitHub omits `patch` for binary files (reported with 0 additions and 0 changes), for
 * files too large to diff, and for pure renames and copies, which look exactly like a binary
 * rename from the listing; a patch that shows fewer added lines than GitHub counted was cut.
 */
export function unscannedReason(file: ChangedFile): string | null {
  if (file.status === 'removed') return null;
  if (file.addedLines === null) {
    if (file.additions > 0) return `no diff of its ${file.additions} added line(s) (too large to show)`;
    if (file.status === 'renamed' || file.status === 'copied')
      return `no text diff of this ${file.status} file: its content may have changed (binary)`;
    return 'no text diff of this file (binary, or a change not shown as text)';
  }
  if (file.addedLines.length < file.additions)
    return `the diff shows ${file.addedLines.length} of the ${file.additions} added line(s)`;
  return null;
}

/** Matches every added line of every file against every matcher; the first match names the line. */
export function scanSecrets(files: readonly ChangedFile[], matchers: readonly SecretMatcher[]): SecretScan {
  const findings: Annotation[] = [];
  const unscanned: Annotation[] = [];
  for (const file of files) {
    const reason = unscannedReason(file);
    if (reason !== null) {
      const line = file.addedLines?.[0]?.line ?? 1;
      unscanned.push({
        path: file.path,
        startLine: line,
        endLine: line,
        level: 'warning',
        title: 'Not scanned for secrets',
        message: `${reason}; a person must check it holds no credential`,
      });
    }
    if (file.status === 'removed') continue;
    for (const added of file.addedLines ?? []) {
      const hit = matchers.find((m) => m.test(added.text));
      if (!hit) continue;
      findings.push({
        path: file.path,
        startLine: added.line,
        endLine: added.line,
        level: 'failure',
        title: 'Secret in added line',
        message: `looks like a ${hit.name}; remove it and rotate the credential`,
      });
    }
  }
  return { findings, unscanned };
}
