import type { CodeOwnersFacts } from './code-owner-groups.js';
import type { SecretScan } from './scan-secrets.js';
/**
 * What the evaluator knows about a pull request. The GitHub adapter gathers these (with
 * pagination); tests and `agov policy check` build them from plain data.
 */
export interface AddedLine {
  /** Line number in the new version of the file. */
  line: number;
  text: string;
}

export interface ChangedFile {
  path: string;
  /** The old path of a renamed file. */
  previousPath: string | null;
  status: 'added' | 'removed' | 'modified' | 'renamed' | 'copied' | 'changed' | 'unchanged';
  additions: number;
  deletions: number;
  /** Git blob sha of the new version (null for removed files). */
  blobSha: string | null;
  /** Added lines from the patch; null when GitHub sent no patch (binary or too large). */
  addedLines: AddedLine[] | null;
}

export interface CheckFact {
  name: string;
  status: string;
  conclusion: string | null;
}

export interface PullRequestFacts {
  /** `owner/name` */
  repository: string;
  number: number;
  title: string;
  url: string;
  author: string;
  headSha: string;
  baseRef: string;
  draft: boolean;
  files: ChangedFile[];
  /** `Name <email>` from `Co-Authored-By:` trailers of the PR's commits. */
  coAuthors: string[];
  /** Check runs on the head commit, other than this app's own. */
  checks: CheckFact[];
  /**
   * The secret scan of `files` with the policy's patterns, when the adapter ran it already (in
   * slices, off the hot path of the event loop); absent, the rule scans itself.
   */
  secretScan?: SecretScan;
  /**
   * Files the PR changes that GitHub did not list (it lists at most 3,000): never judged, so never
   * taken as clean.
   */
  unlistedFiles?: number;
  /** The default branch's CODEOWNERS, read only when the policy has an `approvers: codeowners` gate. */
  codeOwners?: CodeOwnersFacts;
}

/**
 * Added lines of a unified diff: GitHub's `patch` field (which starts at the first `@@`) or one
 * file of `git diff` (whose `---`/`+++` headers come before it). Each hunk header says how many
 * old and new lines follow, so inside a hunk every `+` line is content, even one whose text
 * begins with `++` (patch text `+++i;`); only lines outside every hunk can be headers.
 */
export function addedLinesOf(patch: string): AddedLine[] {
  const added: AddedLine[] = [];
  let line = 0;
  let oldLeft = 0;
  let newLeft = 0;
  for (const raw of patch.split('\n')) {
    if (oldLeft > 0 || newLeft > 0) {
      if (raw.startsWith('+')) {
        added.push({ line: line++, text: raw.slice(1) });
        newLeft--;
      } else if (raw.startsWith('-')) {
        oldLeft--;
      } else if (!raw.startsWith('\\')) {
        // Context (some tools strip the space of an empty context line).
        line++;
        oldLeft--;
        newLeft--;
      }
      continue;
    }
    const hunk = /^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(raw);
    if (hunk) {
      oldLeft = hunk[1] === undefined ? 1 : Number(hunk[1]);
      line = Number(hunk[2]);
      newLeft = hunk[3] === undefined ? 1 : Number(hunk[3]);
    }
  }
  return added;
}

/** `Co-Authored-By: Name <email>` trailers of a commit message. */
export function coAuthorsOf(message: string): string[] {
  return [...message.matchAll(/^co-authored-by:\s*(.+?<[^>]+>)\s*$/gim)].map((m) => m[1]!.trim());
}
