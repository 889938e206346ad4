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

/**
 * Long lines are matched in windows of this many characters, each overlapping the next by
 * `WINDOW_OVERLAP`: one step of the scan never runs a pattern over more than a window, and a
 * credential shorter than the overlap is never cut in two.
 */
export const WINDOW = 16 * 1024;
export const WINDOW_OVERLAP = 1024;

/** Where the scan is: a caller that must stop keeps what was found and reports the rest unscanned. */
export interface ScanStep {
  /** The file being scanned. */
  file: ChangedFile;
  /** Everything found so far (the scan's own lists: read them, do not keep them). */
  sofar: SecretScan;
}

/**
 * The scan as a sequence of small steps (one pattern over one window of one added line), so a
 * caller can give the event loop back between them and stop at a deadline. Returns the result
 * when every step ran. `scanSecrets` runs all steps at once.
 */
export function* secretScanSteps(
  files: readonly ChangedFile[],
  matchers: readonly SecretMatcher[],
): Generator<ScanStep, SecretScan, void> {
  const findings: Annotation[] = [];
  const unscanned: Annotation[] = [];
  const sofar = { findings, unscanned };
  for (const file of files) {
    const reason = unscannedReason(file);
    if (reason !== null) unscanned.push(unscannedAnnotation(file, reason));
    if (file.status === 'removed') continue;
    for (const added of file.addedLines ?? []) {
      let hit: SecretMatcher | undefined;
      for (const matcher of matchers) {
        for (let at = 0; !hit && at < Math.max(1, added.text.length); at += WINDOW - WINDOW_OVERLAP) {
          if (matcher.test(added.text.length <= WINDOW ? added.text : added.text.slice(at, at + WINDOW)))
            hit = matcher;
          yield { file, sofar };
          if (added.text.length <= WINDOW) break;
        }
        if (hit) break;
      }
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

export function unscannedAnnotation(file: ChangedFile, reason: string): Annotation {
  const line = file.addedLines?.[0]?.line ?? 1;
  return {
    path: file.path,
    startLine: line,
    endLine: line,
    level: 'warning',
    title: 'Not scanned for secrets',
    message: `${reason}; a person must check it holds no credential`,
  };
}

/** Matches every added line of every file against every matcher; the first match names the line. */
export function scanSecrets(files: readonly ChangedFile[], matchers: readonly SecretMatcher[]): SecretScan {
  const steps = secretScanSteps(files, matchers);
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}
