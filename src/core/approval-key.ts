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

/**
 * The key of a deployment waiting on a gate: one environment of one workflow run. Its string form,
 * `deployment:owner/name:run:RUN_ID:env:ENVIRONMENT` (the environment percent-encoded), is what a
 * Slack button carries back. It never reads as a PR's key (an owner holds no `:`) nor a PR's key as
 * one of these, and a value reads as a key only when it is exactly the string
 * `deploymentApprovalKeyOf` builds for what it says: a forged value names no other deployment.
 */
export interface DeploymentApprovalKey {
  repository: string;
  runId: number;
  /** As GitHub sent it (the answer names it back); GitHub limits a name to 255 characters. */
  environment: string;
}

const DEPLOYMENT_KEY =
  /^deployment:([A-Za-z0-9][A-Za-z0-9_-]*\/[A-Za-z0-9_.-]+):run:([1-9][0-9]*):env:([^:]+)$/;
const MAX_ENVIRONMENT = 255;

export function parseDeploymentApprovalKey(value: string): DeploymentApprovalKey | null {
  const match = DEPLOYMENT_KEY.exec(value);
  if (!match) return null;
  const [, repository, digits, encoded] = match as unknown as [string, string, string, string];
  const environment = decoded(encoded);
  const runId = Number(digits);
  const name = repository.slice(repository.indexOf('/') + 1);
  if (environment === null || !Number.isSafeInteger(runId) || name === '.' || name === '..') return null;
  const key = { repository, runId, environment };
  // Only the one spelling counts: `%41` for `A`, or lower-case hex, would be a second key for it.
  return validEnvironment(environment) && formatDeployment(key) === value ? key : null;
}

/** Whether these parts make a key: one that reads back as the same run and environment. */
export function isDeploymentApprovalKey(key: DeploymentApprovalKey): boolean {
  if (!validEnvironment(key.environment)) return false;
  const back = parseDeploymentApprovalKey(formatDeployment(key));
  return (
    back?.repository === key.repository && back.runId === key.runId && back.environment === key.environment
  );
}

/** The key of a deployment waiting on a gate; throws for parts that would not read back as the same. */
export function deploymentApprovalKeyOf(key: DeploymentApprovalKey): string {
  if (!isDeploymentApprovalKey(key)) throw new Error(`not a deployment approval key: ${JSON.stringify(key)}`);
  return formatDeployment(key);
}

function formatDeployment(key: DeploymentApprovalKey): string {
  return `deployment:${key.repository}:run:${key.runId}:env:${encodeURIComponent(key.environment)}`;
}

function validEnvironment(environment: string): boolean {
  if (environment.length === 0 || environment.length > MAX_ENVIRONMENT) return false;
  try {
    encodeURIComponent(environment); // a lone surrogate cannot be encoded
    return true;
  } catch {
    return false;
  }
}

function decoded(encoded: string): string | null {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return null;
  }
}
