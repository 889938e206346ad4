/**
 * How a revert names what it undoes, as GitHub and git write it. Pure text parsing.
 *
 * - GitHub's "Revert" button opens a PR titled `Revert "…"` whose body begins `Reverts owner/repo#123`.
 * - `git revert` writes `This reverts commit <sha>.` into the commit message.
 */

/** The PR number a revert PR undoes, when its body names one in `repository`. */
export function revertedPullRequest(body: string | null | undefined, repository: string): number | null {
  const match = /^Reverts ([\w.-]+\/[\w.-]+)#(\d+)\b/m.exec(body ?? '');
  if (!match || match[1]!.toLowerCase() !== repository.toLowerCase()) return null;
  return Number(match[2]);
}

/** Every commit a commit message says it reverts. */
export function revertedCommits(message: string): string[] {
  return [...message.matchAll(/This reverts commit ([0-9a-f]{40})\b/g)].map((m) => m[1]!);
}

/** One file a change touched, as GitHub lists a PR's files (`status`: added, removed, modified, renamed, …). */
export interface FileChange {
  path: string;
  previousPath?: string | null;
  status: string;
}

type Effect = 'created' | 'deleted' | 'changed';

/** What a change did to each path: a rename deletes the old path and creates the new one. */
function effectsOf(files: readonly FileChange[]): Map<string, Effect> {
  const effects = new Map<string, Effect>();
  const put = (path: string, effect: Effect) => {
    const before = effects.get(path);
    // A path deleted and created by one change (a rename onto a removed file) was changed.
    effects.set(path, before && before !== effect ? 'changed' : effect);
  };
  for (const f of files) {
    if (f.status === 'added') put(f.path, 'created');
    else if (f.status === 'removed') put(f.path, 'deleted');
    else if (f.status === 'renamed' || f.status === 'copied') {
      if (f.status === 'renamed' && f.previousPath) put(f.previousPath, 'deleted');
      put(f.path, 'created');
    } else put(f.path, 'changed');
  }
  return effects;
}

const INVERSE: Record<Effect, Effect> = { created: 'deleted', deleted: 'created', changed: 'changed' };

/** The files a `push` payload's commit lists, as changes. */
export function pushedChanges(commit: {
  added?: readonly string[];
  removed?: readonly string[];
  modified?: readonly string[];
}): FileChange[] {
  return [
    ...(commit.added ?? []).map((path) => ({ path, status: 'added' })),
    ...(commit.removed ?? []).map((path) => ({ path, status: 'removed' })),
    ...(commit.modified ?? []).map((path) => ({ path, status: 'modified' })),
  ];
}

/**
 * Whether `revert` undoes `original`, judged from the files each touched: the same paths, each
 * put back (what the original created is deleted, what it deleted is created, what it changed is
 * changed). A revert's word is not enough: a PR that only names another cannot charge its author.
 * Unknown files on either side (empty lists) undo nothing.
 */
export function undoes(
  revert: readonly FileChange[],
  original: readonly FileChange[],
): { undoes: boolean; reason: string } {
  if (original.length === 0) return { undoes: false, reason: "the original's files are not known" };
  if (revert.length === 0) return { undoes: false, reason: 'the revert changes no file' };
  const done = effectsOf(original);
  const undone = effectsOf(revert);
  const missing = [...done.keys()].filter((p) => !undone.has(p));
  const extra = [...undone.keys()].filter((p) => !done.has(p));
  if (missing.length > 0 || extra.length > 0) {
    const parts = [
      missing.length > 0 ? `leaves ${missing.sort().join(', ')} as it was` : null,
      extra.length > 0 ? `changes ${extra.sort().join(', ')}, which the original did not` : null,
    ];
    return { undoes: false, reason: parts.filter(Boolean).join('; ') };
  }
  const wrong = [...done].filter(([path, effect]) => undone.get(path) !== INVERSE[effect]).map(([p]) => p);
  if (wrong.length > 0) return { undoes: false, reason: `does not put back ${wrong.sort().join(', ')}` };
  return { undoes: true, reason: `puts back the ${done.size} file(s) the original changed` };
}
