/** The one tally over a deployment's votes, and what it answers GitHub: a table over plain values. */
import { describe, expect, it } from 'vitest';
import {
  type DeploymentRequest,
  type DeploymentVote,
  deploymentAnswer,
  tallyDeployment,
} from '../../src/core/deployment-approval.js';
import { directoryOf } from '../../src/core/people.js';
import type { GateRule } from '../../src/core/policy/gate-tally.js';

const RULE: GateRule = {
  gate: 'prod',
  approvals: 2,
  council: false,
  veto: false,
  distinctTeams: false,
  eligible: ['alice', 'bob', 'carol', 'olivia'],
  unmapped: [],
  allowOwner: false,
  survivePush: false,
  githubReviews: true,
  expiryHours: 24,
  onExpiry: 'reject',
};
const REQUESTED = '2026-11-27T10:00:00.000Z';
const SOON = new Date('2026-11-27T11:00:00.000Z');
const LATE = new Date('2026-11-28T10:00:00.000Z');
const directory = directoryOf(
  ['alice', 'bob', 'carol', 'olivia'].map((github) => ({ github, slack: `U${github.toUpperCase()}` })),
  ['stage-bot', 'stage-bot[bot]'],
);

function request(rule: Partial<GateRule> = {}): DeploymentRequest {
  return {
    key: 'deployment:acme/web:run:1:env:production',
    agentId: 'stage-bot',
    owner: 'olivia',
    rule: { ...RULE, ...rule },
    requestedAt: REQUESTED,
  };
}

const vote = (approver: string, verdict: 'approve' | 'reject' = 'approve', at = '2026-11-27T10:30:00.000Z') =>
  ({ approver, verdict, at }) satisfies DeploymentVote;

describe('what a deployment’s votes answer GitHub', () => {
  it.each([
    ['no votes yet', request(), [], SOON, null, 'needs 2 more approval(s) from alice, bob, carol'],
    [
      'one approval of two',
      request(),
      [vote('alice')],
      SOON,
      null,
      'needs 1 more approval(s) from bob, carol',
    ],
    ['two approvals', request(), [vote('alice'), vote('bob')], SOON, 'approved', 'approved by alice, bob'],
    [
      'one person twice (two channels, two clicks) counts once',
      request(),
      [vote('alice'), vote('ALICE')],
      SOON,
      null,
      'needs 1 more',
    ],
    [
      'the agent’s own vote never counts',
      request(),
      [vote('stage-bot[bot]'), vote('alice')],
      SOON,
      null,
      'needs 1 more',
    ],
    [
      'the owner’s vote does not count where the gate forbids it',
      request(),
      [vote('olivia'), vote('alice')],
      SOON,
      null,
      'needs 1 more',
    ],
    [
      'the owner counts where the gate allows owners',
      request({ allowOwner: true }),
      [vote('olivia'), vote('alice')],
      SOON,
      'approved',
      'approved by alice, olivia',
    ],
    [
      'a rejection rejects',
      request(),
      [vote('alice'), vote('bob', 'reject')],
      SOON,
      'rejected',
      'rejected by bob',
    ],
    [
      'an empty approver list means nobody',
      request({ eligible: [] }),
      [],
      SOON,
      'rejected',
      'no approvers are configured',
    ],
    [
      'past the deadline: rejected (expiry never approves)',
      request(),
      [vote('alice')],
      LATE,
      'rejected',
      'expired at 2026-11-28T10:00:00.000Z',
    ],
    [
      'an approval after the deadline does not count',
      request(),
      [vote('alice'), vote('bob', 'approve', '2026-11-28T10:00:01.000Z')],
      LATE,
      'rejected',
      'expired',
    ],
    [
      'past the deadline under escalate: still waiting',
      request({ onExpiry: 'escalate' }),
      [],
      LATE,
      null,
      'escalated to the admins',
    ],
  ] as const)('%s', (_name, req, votes, now, answer, says) => {
    const tally = tallyDeployment(req, votes, directory, now);
    expect(deploymentAnswer(tally)).toBe(answer);
    expect(tally.description).toContain(says);
  });
});
