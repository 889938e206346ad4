import {
  buttonOf,
  buttonRefusal,
  type CheckRunButton,
  type ClickedDecision,
} from '../core/check-run-buttons.js';
import type { LedgerEntryInput, LedgerPayload } from '../core/ledger-entries.js';
import { CHECK_NAME } from '../core/policy/evaluate.js';
import type { LedgerReader } from '../ledger/ledger-reader.js';
import { checkRunButtonsAsync } from '../ledger/queries/check-run-buttons.js';
import { checkRunsAsync } from '../ledger/queries/check-runs.js';
import { decisionsAsync } from '../ledger/queries/decisions.js';
import type { Governance } from './governance.js';

/** Approvers are reminded at most this often on one PR at one commit, whoever asks. */
export const ASK_APPROVERS_EVERY_MS = 10 * 60_000;

/** A click on a check run's button, as the webhook carried it. */
export interface CheckRunClick {
  repository: string;
  /** The PRs the check run names (GitHub lists those whose head is the check's commit). */
  numbers: readonly number[];
  headSha: string;
  sender: string;
  identifier: string;
  /** Whether it is this app's `Agent Governance` check. */
  ours: boolean;
  /** The id of the clicked check run (null when the webhook names none). */
  checkRunId: number | null;
  /** The ledger entry of the delivery that carried it. */
  deliverySeq: number;
}

/** What came of a click: done (and which PR), or refused with why. */
export interface ClickVerdict {
  accepted: boolean;
  button: CheckRunButton | null;
  number: number | null;
  outcome: string;
}

type Click = LedgerPayload<'check_run.button'>;
type Decision = NonNullable<Awaited<ReturnType<typeof decisionsAsync.newestDecision>>>;

/**
 * Judges a click and records it (accepted or refused) as one `check_run.button` entry, decided
 * from the ledger as the entry extends it. The delivery's processing may run again (GitHub failed after the
 * click was recorded): the click already recorded for it is returned, and nothing is recorded
 * twice. `slackUnavailable` says why approvers cannot be reminded in Slack (null: they can).
 */
export async function recordCheckRunClick(
  g: Governance,
  click: CheckRunClick,
  slackUnavailable: string | null,
): Promise<ClickVerdict> {
  let verdict: ClickVerdict | null = null;
  await g.record(async ({ reader }) => {
    const earlier = await checkRunButtonsAsync.clickOfDelivery(reader, click.deliverySeq);
    if (earlier) {
      verdict = verdictOf(earlier);
      return [];
    }
    const { entry, payload } = await judge(g, reader, click, slackUnavailable);
    verdict = verdictOf(payload);
    return [entry];
  });
  return verdict!;
}

async function judge(
  g: Governance,
  reader: LedgerReader,
  click: CheckRunClick,
  slackUnavailable: string | null,
): Promise<{ entry: LedgerEntryInput; payload: Click }> {
  const { number, decision } = await clickedPullRequest(reader, click);
  const button = click.ours ? buttonOf(click.identifier) : null;
  // The check run this app wrote on the commit: a click on any other is not on our check.
  const ourCheckRunId = await checkRunsAsync.checkRunId(reader, click.repository, click.headSha, CHECK_NAME);
  const refusal =
    buttonRefusal({ ...click, ourCheckRunId }, decision && viewOf(decision), g.directory()) ??
    (button === 'ask_approvers' && number !== null
      ? await askRefusal(g, reader, click, number, slackUnavailable)
      : null);
  const payload: Click = {
    repository: click.repository,
    number,
    headSha: click.headSha,
    sender: click.sender,
    identifier: click.identifier,
    button,
    accepted: refusal === null,
    outcome: refusal ?? doneOf(button!),
    deliverySeq: click.deliverySeq,
  };
  return {
    entry: { type: 'check_run.button', agentId: decision?.agentId ?? null, actor: click.sender, payload },
    payload,
  };
}

/**
 * The PR a click is about: of those the check names, the one whose newest decision is at the
 * check's commit (else the first named), with that decision. GitHub names no PR on a check of a
 * PR from a fork: then the PR this app last decided at the commit.
 */
async function clickedPullRequest(
  reader: LedgerReader,
  click: CheckRunClick,
): Promise<{ number: number | null; decision: Decision | null }> {
  const atHead = click.numbers.length
    ? null
    : await decisionsAsync.pullRequestAtHead(reader, click.repository, click.headSha);
  const numbers = atHead === null ? click.numbers : [atHead];
  const named: { number: number; decision: Decision | null }[] = [];
  for (const n of numbers)
    named.push({ number: n, decision: await decisionsAsync.newestDecision(reader, click.repository, n) });
  return (
    named.find((n) => n.decision?.payload.headSha === click.headSha) ??
    named[0] ?? { number: null, decision: null }
  );
}

function viewOf({ payload: d }: Decision): ClickedDecision {
  return {
    headSha: d.headSha,
    outcome: d.outcome,
    author: d.author ?? d.attribution?.author ?? null,
    gates: d.gates ?? [],
  };
}

/** Why approvers are not reminded now though the click is allowed: no Slack, or asked just now. */
async function askRefusal(
  g: Governance,
  reader: LedgerReader,
  click: CheckRunClick,
  number: number,
  slackUnavailable: string | null,
): Promise<string | null> {
  if (slackUnavailable) return `nobody was asked: ${slackUnavailable}`;
  const last = await checkRunButtonsAsync.lastAskedApprovers(reader, click.repository, number, click.headSha);
  if (!last) return null;
  const next = Date.parse(last.ts) + ASK_APPROVERS_EVERY_MS;
  if (g.clock.ms() >= next) return null;
  return `the approvers were asked again at ${last.ts} by ${last.sender}; ask again after ${new Date(next).toISOString()}`;
}

function doneOf(button: CheckRunButton): string {
  return button === 'reevaluate'
    ? 'the pull request is decided again'
    : 'the approvers are reminded in Slack';
}

function verdictOf(c: Click): ClickVerdict {
  return { accepted: c.accepted, button: c.button, number: c.number, outcome: c.outcome };
}
