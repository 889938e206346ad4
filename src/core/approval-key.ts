/**
 * The key of an approval request: one pull request at one head commit. Its string form,
 * `owner/name#number@headSha`, is what the ledger stores and what a Slack button carries back, so
 * it is built and read only here.
 *
 * A button's value comes back as input anyone can forge. A string reads as a key only when it is
 * exactly the string `approvalKeyOf` builds for what it says (a GitHub repository name, a
 * positive number without leading zeros, a full commit SHA): a forged value is no key at all, and
 * never one that names another pull request.
 */
export interface ApprovalKey {
  repository: string;
  number: number;
  headSha: string;
}

// GitHub's names: an owner of letters, digits, '-' and '_' (enterprise managed users); a repository
// name of letters, digits, '.', '-' and '_'. A commit is 40 hex digits (SHA-1) or 64 (SHA-256).
const KEY = /^([A-Za-z0-9][A-Za-z0-9_-]*\/[A-Za-z0-9_.-]+)#([1-9][0-9]*)@([0-9a-f]{40}|[0-9a-f]{64})$/;

export function parseApprovalKey(value: string): ApprovalKey | null {
  const match = KEY.exec(value);
  if (!match) return null;
  const [, repository, digits, headSha] = match as unknown as [string, string, string, string];
  const number = Number(digits);
  const name = repository.slice(repository.indexOf('/') + 1);
  if (!Number.isSafeInteger(number) || name === '.' || name === '..') return null;
  return { repository, number, headSha };
}

/** Whether these parts make a key: one that reads back as the same PR at the same commit. */
export function isApprovalKey(key: ApprovalKey): boolean {
  const back = parseApprovalKey(format(key));
  return back?.repository === key.repository && back.number === key.number && back.headSha === key.headSha;
}

/** The key of a PR at a head commit; throws for parts that would not read back as the same PR. */
export function approvalKeyOf(key: ApprovalKey): string {
  if (!isApprovalKey(key)) throw new Error(`not an approval key: ${JSON.stringify(key)}`);
  return format(key);
}

function format(key: ApprovalKey): string {
  return `${key.repository}#${key.number}@${key.headSha}`;
}
