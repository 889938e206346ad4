/** Who may press a check's buttons: a table over the pure rule (the webhook path is in test/github). */
import { describe, expect, it } from 'vitest';
import {
  type ButtonClick,
  buttonOf,
  buttonRefusal,
  buttonsFor,
  CHECK_RUN_BUTTONS,
  type ClickedDecision,
} from '../../src/core/check-run-buttons.js';
import { directoryOf } from '../../src/core/people.js';

const SHA = 'a'.repeat(40);
const directory = directoryOf(
  [{ github: 'alice' }, { github: 'Bob' }, { github: 'olivia' }],
  ['builder-bot[bot]', 'builder-bot', 'ops-agent'],
);
const waiting: ClickedDecision = {
  headSha: SHA,
  outcome: 'require_approval',
  author: 'builder-bot[bot]',
  gates: [{ gate: 'default', eligible: ['alice', 'bob', 'carol'] }],
};
const byPerson: ClickedDecision = { ...waiting, author: 'dave' };
const press = (sender: string, identifier = 'reevaluate', o: Partial<ButtonClick> = {}): ButtonClick => ({
  sender,
  identifier,
  headSha: SHA,
  ours: true,
  checkRunId: 700,
  ourCheckRunId: 700,
  ...o,
});

describe('the buttons a check offers', () => {
  it.each([
    ['require_approval', ['reevaluate', 'ask_approvers']],
    ['pending', ['reevaluate']],
    ['allow', []],
    ['deny', []],
    ['not_agent', []],
    ['config_error', []],
  ])('%s: %j', (outcome, ids) => {
    expect(buttonsFor(outcome).map((b) => b.identifier)).toEqual(ids);
  });

  it('fit GitHub’s limits (label 20, description 40, identifier 20)', () => {
    for (const b of Object.values(CHECK_RUN_BUTTONS)) {
      expect(b.label.length).toBeLessThanOrEqual(20);
      expect(b.description.length).toBeLessThanOrEqual(40);
      expect(b.identifier.length).toBeLessThanOrEqual(20);
    }
  });

  it('knows its own identifiers and nothing an object inherits', () => {
    expect(buttonOf('reevaluate')).toBe('reevaluate');
    expect(['approve', 'constructor', '__proto__', 'toString', ''].map(buttonOf)).toEqual([
      null,
      null,
      null,
      null,
      null,
    ]);
  });
});

describe('who may press them', () => {
  it.each<[string, ButtonClick, ClickedDecision | null, string | null]>([
    [
      'the agent that opened the PR',
      press('builder-bot[bot]'),
      waiting,
      'an agent presses no button on a check',
    ],
    [
      'an agent by its id',
      press('builder-bot', 'ask_approvers'),
      waiting,
      'an agent presses no button on a check',
    ],
    ['another agent, a machine user', press('ops-agent'), byPerson, 'an agent presses no button on a check'],
    ['any bot account', press('renovate[bot]'), waiting, 'an agent presses no button on a check'],
    [
      'a named approver who is an agent anyway',
      press('ops-agent'),
      { ...waiting, gates: [{ gate: 'default', eligible: ['ops-agent'] }] },
      'an agent presses no button on a check',
    ],
    [
      'a stranger',
      press('mallory'),
      waiting,
      'only an approver named by a waiting gate, or the pull request’s author, may press it',
    ],
    [
      'a person named by no waiting gate',
      press('olivia'),
      waiting,
      'only an approver named by a waiting gate, or the pull request’s author, may press it',
    ],
    [
      'a login a gate names that the organisation does not know',
      press('carol'),
      waiting,
      'only an approver named by a waiting gate, or the pull request’s author, may press it',
    ],
    ['a forged identifier', press('alice', 'approve'), waiting, 'unknown button `approve`'],
    [
      'another app’s check',
      press('alice', 'reevaluate', { ours: false }),
      waiting,
      'not this app’s Agent Governance check',
    ],
    ['a PR never decided', press('alice'), null, 'no decision is recorded for a pull request at this check'],
    [
      'an older commit’s check',
      press('alice', 'reevaluate', { headSha: 'b'.repeat(40) }),
      waiting,
      'the check is for an older commit: the pull request moved on',
    ],
    [
      'another check run of the commit, same name and app',
      press('alice', 'reevaluate', { checkRunId: 701 }),
      waiting,
      'not the check run this app wrote on the commit',
    ],
    [
      'a check run id no JavaScript integer can be',
      press('alice', 'reevaluate', { checkRunId: 1e20 }),
      waiting,
      'not the check run this app wrote on the commit',
    ],
    [
      'a check run when this app wrote none on the commit (or its create is under way)',
      press('alice', 'reevaluate', { ourCheckRunId: 0 }),
      waiting,
      'not the check run this app wrote on the commit',
    ],
    [
      'a click naming no check run',
      press('alice', 'reevaluate', { checkRunId: null }),
      waiting,
      'not the check run this app wrote on the commit',
    ],
    [
      'Re-evaluate on a final check',
      press('alice'),
      { ...waiting, outcome: 'allow' },
      'the check no longer waits: its decision is final',
    ],
    [
      'Ask again on a final check',
      press('alice', 'ask_approvers'),
      { ...waiting, outcome: 'deny' },
      'the check no longer waits: asking again cannot change it',
    ],
    [
      'Ask again while only CI is awaited',
      press('alice', 'ask_approvers'),
      { ...waiting, outcome: 'pending' },
      'nobody is asked for an approval on this check',
    ],
    ['a named approver', press('alice', 'ask_approvers'), waiting, null],
    ['a named approver, in another case', press('BOB'), waiting, null],
    ['the author, a person', press('dave', 'ask_approvers'), byPerson, null],
    ['the author, a person, while CI is awaited', press('dave'), { ...byPerson, outcome: 'pending' }, null],
  ])('%s', (_who, click, decision, refusal) => {
    expect(buttonRefusal(click, decision, directory)).toBe(refusal);
  });
});
