/**
 * The buttons on a waiting `Agent Governance` check (GitHub check-run `actions`), and who may press
 * them. A click comes back as `check_run.requested_action` with the button's identifier and the
 * GitHub user who clicked (`sender`); anyone who can see the check can click, so every click is
 * judged here before it does anything.
 */
import { type Directory, isAgentIdentity, loginKey, personByLogin } from './people.js';

export type CheckRunButton = 'reevaluate' | 'ask_approvers';

/** A button as the Checks API takes it: label ≤ 20 characters, description ≤ 40, identifier ≤ 20. */
export interface CheckRunAction {
  label: string;
  description: string;
  identifier: CheckRunButton;
}

export const CHECK_RUN_BUTTONS: Readonly<Record<CheckRunButton, CheckRunAction>> = {
  reevaluate: {
    label: 'Re-evaluate',
    description: 'Decide this pull request again now',
    identifier: 'reevaluate',
  },
  ask_approvers: {
    label: 'Ask approvers again',
    description: 'Remind the approvers in Slack',
    identifier: 'ask_approvers',
  },
};

/** The outcomes a check waits in: for approvals, or for facts not there yet (required CI). */
const WAITING = new Set(['require_approval', 'pending']);

/**
 * The buttons a check with this outcome offers: both while it waits for approvals, Re-evaluate
 * while it waits for required checks, none once it is final (asking people cannot change it).
 */
export function buttonsFor(outcome: string): CheckRunAction[] {
  if (outcome === 'require_approval') return [CHECK_RUN_BUTTONS.reevaluate, CHECK_RUN_BUTTONS.ask_approvers];
  if (outcome === 'pending') return [CHECK_RUN_BUTTONS.reevaluate];
  return [];
}

/** The button an identifier names, or null for one this app never offers (a forged click). */
export function buttonOf(identifier: string): CheckRunButton | null {
  return Object.hasOwn(CHECK_RUN_BUTTONS, identifier) ? (identifier as CheckRunButton) : null;
}

/** A click, as the webhook describes it, and whose check it was on. */
export interface ButtonClick {
  sender: string;
  identifier: string;
  headSha: string;
  /** Whether the check is this app's `Agent Governance` check (its name and app id). */
  ours: boolean;
  /** The id of the clicked check run, as the webhook names it (null when it names none). */
  checkRunId: number | null;
  /** The id of this app's check run on the commit, as this app wrote it (null: none known). */
  ourCheckRunId: number | null;
}

/** What the ledger says about the PR the click is about: its newest decision. */
export interface ClickedDecision {
  headSha: string;
  outcome: string;
  /** The PR's author, a GitHub login (may be an agent's). */
  author: string | null;
  /** The gates still waiting, with the people each names. */
  gates: readonly { gate: string; eligible: readonly string[] }[];
}

/** Why a button of a check that no longer waits does nothing, in the button's terms. */
const NO_LONGER_WAITS: Readonly<Record<CheckRunButton, string>> = {
  reevaluate: 'the check no longer waits: its decision is final',
  ask_approvers: 'the check no longer waits: asking again cannot change it',
};

/**
 * Why a click is refused, in words for the audit; null when it may do what its button says.
 *
 * Allowed: a person named as an approver of a waiting gate, or the PR's author when the author is
 * a person. Never an agent (a registered agent's login or id, any `[bot]` account), for either
 * button: Re-evaluate loosens nothing by itself, but an agent can already have its PR decided again
 * by pushing, and a button would only let it spend the installation's GitHub calls and time
 * re-decisions against a policy or cache change; Ask approvers again would let it page people.
 * Strict is simpler to audit: an agent presses no button.
 */
export function buttonRefusal(
  click: ButtonClick,
  decision: ClickedDecision | null,
  directory: Directory,
): string | null {
  if (!click.ours) return 'not this app’s Agent Governance check';
  const button = buttonOf(click.identifier);
  if (!button) return `unknown button \`${click.identifier}\``;
  if (isAgentIdentity(directory, click.sender)) return 'an agent presses no button on a check';
  if (!decision) return 'no decision is recorded for a pull request at this check';
  if (decision.headSha !== click.headSha)
    return 'the check is for an older commit: the pull request moved on';
  if (!click.ourCheckRunId || click.checkRunId !== click.ourCheckRunId)
    return 'not the check run this app wrote on the commit';
  if (!WAITING.has(decision.outcome)) return NO_LONGER_WAITS[button];
  if (!buttonsFor(decision.outcome).some((b) => b.identifier === button))
    return 'nobody is asked for an approval on this check';
  const sender = loginKey(click.sender);
  const author = decision.author ? loginKey(decision.author) : null;
  if (sender === author) return null;
  const named = decision.gates.some((g) => g.eligible.some((login) => loginKey(login) === sender));
  if (named && personByLogin(directory, click.sender)) return null;
  return 'only an approver named by a waiting gate, or the pull request’s author, may press it';
}
