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
}

/** Added lines of a unified diff hunk list (GitHub's `patch` field or one file of `git diff`). */
export function addedLinesOf(patch: string): AddedLine[] {
  const added: AddedLine[] = [];
  let line = 0;
  for (const raw of patch.split('\n')) {
    const hunk = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(raw);
    if (hunk) {
      line = Number(hunk[1]);
      continue;
    }
    if (raw.startsWith('+++') || raw.startsWith('---') || raw.startsWith('\\')) continue;
    if (raw.startsWith('+')) {
      added.push({ line, text: raw.slice(1) });
      line++;
    } else if (!raw.startsWith('-')) {
      line++;
    }
  }
  return added;
}

/** `Co-Authored-By: Name <email>` trailers of a commit message. */
export function coAuthorsOf(message: string): string[] {
  return [...message.matchAll(/^co-authored-by:\s*(.+?<[^>]+>)\s*$/gim)].map((m) => m[1]!.trim());
}
