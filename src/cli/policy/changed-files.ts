import { addedLinesOf, type ChangedFile } from '../../core/policy/pull-request-facts.js';
import { UserError } from '../../platform/errors.js';
import { readText } from './policy-file.js';

/** Files from `--files a,b` (one added line each) or from a unified diff (`git diff` output). */
export function filesFrom(opts: { files?: string; diff?: string }): ChangedFile[] {
  if (opts.diff) return filesFromDiff(opts.diff);
  if (opts.files) {
    return opts.files
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)
      .map((path) => ({
        path,
        previousPath: null,
        status: 'modified' as const,
        additions: 1,
        deletions: 0,
        blobSha: null,
        // Paths only: one empty added line each, so there is content to count and nothing to scan.
        addedLines: [{ line: 1, text: '' }],
      }));
  }
  throw new UserError('usage', 'give the changed files with --files a,b,c or --diff FILE');
}

function filesFromDiff(path: string): ChangedFile[] {
  const text = readText(path, 'the diff');
  const parts = text.split(/^diff --git /m).slice(1);
  if (parts.length === 0) throw new UserError('diff_invalid', `${path} holds no \`diff --git\` sections`);
  return parts.map((part) => fileOf(part, path));
}

/** One file's section of a unified diff (after its `diff --git `). */
function fileOf(part: string, path: string): ChangedFile {
  const header = /^a\/(\S+) b\/(\S+)/.exec(part);
  if (!header) throw new UserError('diff_invalid', `cannot read a file header in ${path}`);
  const [, from, to] = header as unknown as [string, string, string];
  const body = part.slice(part.indexOf('\n@@') + 1);
  // git shows no lines of a binary file: unscanned, as when GitHub sends no patch.
  const binary = /\n(?:Binary files .* differ|GIT binary patch)$/m.test(part);
  const added = binary ? null : part.includes('\n@@') ? addedLinesOf(body) : [];
  const removed = part.includes('\n@@')
    ? body.split('\n').filter((l) => l.startsWith('-') && !l.startsWith('---')).length
    : 0;
  const status: ChangedFile['status'] = /\nnew file mode/.test(part)
    ? 'added'
    : /\ndeleted file mode/.test(part)
      ? 'removed'
      : from !== to
        ? 'renamed'
        : 'modified';
  return {
    path: to,
    previousPath: from !== to ? from : null,
    status,
    additions: added?.length ?? 0,
    deletions: removed,
    blobSha: null,
    addedLines: added,
  };
}
