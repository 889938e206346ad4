import type { ApprovalReceipt } from '../../core/policy/decision.js';
import type { LedgerSource } from '../ledger.js';
import {
  type DecisionPayload,
  type DecisionSeen,
  type LatestDecision,
  decisionQueries as queries,
  type RecordedDecision,
  type WaitingDecision,
} from './decision-queries.js';
import { asyncReads } from './query.js';

export type { DecisionSeen, LatestDecision, RecordedDecision, WaitingDecision } from './decision-queries.js';
export { LATEST_DECISION_SQL } from './decision-queries.js';

/** The queries of this module on either engine, through a `LedgerReader`. */
export const decisionsAsync = asyncReads(queries);

/** When the PR first waited for people at this head commit, if it did: deadlines run from here. */
export function waitingSince(
  store: LedgerSource,
  repository: string,
  number: number,
  headSha: string,
): string | null {
  return queries.waitingSince.sync(store, repository, number, headSha);
}

/** Every approval and rejection recorded for a PR, oldest first. */
export function approvalReceipts(store: LedgerSource, repository: string, number: number): ApprovalReceipt[] {
  return queries.approvalReceipts.sync(store, repository, number);
}

export function latestDecision(
  store: LedgerSource,
  repository: string,
  number: number,
): LatestDecision | null {
  return queries.latestDecision.sync(store, repository, number);
}

/** The newest decision on a PR, whole (its gates and author), with its agent; or null. */
export function newestDecision(
  store: LedgerSource,
  repository: string,
  number: number,
): { agentId: string | null; payload: DecisionPayload } | null {
  return queries.newestDecision.sync(store, repository, number);
}

/** The newest decision of every other PR of the repository whose head is `headSha`. */
export function otherDecisionsAtHead(
  store: LedgerSource,
  repository: string,
  headSha: string,
  number: number,
): { number: number; outcome: string; summary: string }[] {
  return queries.otherDecisionsAtHead.sync(store, repository, headSha, number);
}

/** Whether the PR was ever decided at this head commit. */
export function decidedAtHead(
  store: LedgerSource,
  repository: string,
  number: number,
  headSha: string,
): boolean {
  return queries.decidedAtHead.sync(store, repository, headSha, number);
}

/** The PR most recently decided at a head commit of a repository, or null. */
export function pullRequestAtHead(store: LedgerSource, repository: string, headSha: string): number | null {
  return queries.pullRequestAtHead.sync(store, repository, headSha);
}

/**
 * The files the PR's decision at `headSha` recorded (the newest decision that recorded any, when
 * none at that head did); null when no decision recorded files.
 */
export function recordedFiles(
  store: LedgerSource,
  repository: string,
  number: number,
  headSha: string,
): NonNullable<DecisionPayload['files']> | null {
  return queries.recordedFiles.sync(store, repository, number, headSha);
}

/** PRs whose newest decision is `require_approval`, with that decision, oldest first. */
export function newestDecisionsWaiting(store: LedgerSource): WaitingDecision[] {
  return queries.newestDecisionsWaiting.sync(store);
}

/**
 * The newest `last` decisions on agents' PRs recorded between `since` and `until` (ISO times,
 * both included), oldest first.
 */
export function recordedAgentDecisions(
  store: LedgerSource,
  window: { since: string; until: string; last: number },
): RecordedDecision[] {
  return queries.recordedAgentDecisions.sync(store, window);
}

/** Every decision recorded since `since`, oldest first. */
export function decisionsSince(store: LedgerSource, since: string): DecisionSeen[] {
  return queries.decisionsSince.sync(store, since);
}

/** The payloads of the decisions recorded since `since`, oldest first. */
export function decisionPayloadsSince(store: LedgerSource, since: string): DecisionPayload[] {
  return queries.decisionPayloadsSince.sync(store, since);
}

/** PRs (`owner/repo#number`) allowed by a decision since `since`. */
export function allowedPullRequestsSince(store: LedgerSource, since: string): string[] {
  return queries.allowedPullRequestsSince.sync(store, since);
}

/** The approver of each approval (not rejection) since `since`. */
export function approversSince(store: LedgerSource, since: string): string[] {
  return queries.approversSince.sync(store, since);
}

/**
 * The council's Slack user group members as the newest `council.membership` entry in
 * (`afterSeq`, `upToSeq`] records them; null when that range has none.
 */
export function councilMembershipBetween(
  store: LedgerSource,
  afterSeq: number,
  upToSeq: number,
): string[] | null {
  return queries.councilMembershipBetween.sync(store, afterSeq, upToSeq);
}
