/**
 * One tally, three renderings: for random gates and random receipts, the PR check, the Slack card
 * and the promotion path say the same thing. Each path runs as the service runs it: the check from
 * `evaluate`, the card from the request stored when the PR first waited, the promotion from the
 * promotion machine, all over the same receipts in a real ledger.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ledgerPayloadSchemas } from '../../../src/core/ledger-entries.js';
import { tierCapabilities } from '../../../src/core/org-config.js';
import { diffHash, evaluate } from '../../../src/core/policy/evaluate.js';
import type { PullRequestFacts } from '../../../src/core/policy/pull-request-facts.js';
import { renderCheckRun } from '../../../src/core/policy/render-check-run.js';
import { resolvePolicy } from '../../../src/core/policy/resolve-policy.js';
import { decisionRecord } from '../../../src/governance/decision-record.js';
import { Promotions } from '../../../src/governance/promotions.js';
import { requestOutcome } from '../../../src/slack/approval-request.js';
import { approvalRequestBlocks } from '../../../src/slack/blocks.js';
import { SlackApprovals } from '../../../src/slack/slack-approvals.js';
import { tempDir } from '../../helpers/agov.js';
import { testRuntime } from '../../helpers/runtime.js';

const PEOPLE = ['p0', 'p1', 'p2', 'p3', 'p4'] as const;
const VOTERS = [...PEOPLE, 'olivia', 'builder-bot[bot]', 'mallory'] as const;
const SHA = 'a'.repeat(40);

const scenario = fc.record({
  teams: fc.tuple(...PEOPLE.map(() => fc.constantFrom('a', 'b', 'c'))),
  council: fc.boolean(),
  members: fc.subarray([...PEOPLE], { minLength: 1 }),
  quorumPick: fc.nat(),
  veto: fc.boolean(),
  distinctTeams: fc.boolean(),
  approvals: fc.integer({ min: 1, max: 3 }),
  owner: fc.constantFrom('p0', 'olivia'),
  votes: fc.array(
    fc.record({
      who: fc.constantFrom(...VOTERS),
      verdict: fc.constantFrom('approve', 'reject') as fc.Arbitrary<'approve' | 'reject'>,
      slack: fc.boolean(),
    }),
    { maxLength: 7 },
  ),
});
type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function orgYaml(s: Scenario): string {
  const quorum = 1 + (s.quorumPick % s.members.length);
  return [
    'agents:',
    `  - { id: builder-bot, tier: T3, owner: ${s.owner}, github_logins: ["builder-bot[bot]"] }`,
    'approvers:',
    ...PEOPLE.map((p, i) => `  - { github: ${p}, teams: [${s.teams[i]}] }`),
    ...(s.council
      ? [
          `council: { members: [${s.members.join(', ')}], quorum: ${quorum}, veto: ${s.veto}, distinct_teams: ${s.distinctTeams} }`,
        ]
      : []),
  ].join('\n');
}

const facts: PullRequestFacts = {
  repository: 'acme/web',
  number: 7,
  title: 'Change',
  url: 'https://github.com/acme/web/pull/7',
  author: 'builder-bot[bot]',
  headSha: SHA,
  baseRef: 'main',
  draft: false,
  files: [
    {
      path: 'infra/main.tf',
      previousPath: null,
      status: 'modified',
      additions: 1,
      deletions: 0,
      blobSha: 'b1',
      addedLines: [{ line: 1, text: 'x' }],
    },
  ],
  coAuthors: [],
  checks: [],
};

describe('the approval tally', () => {
  it('the check, the Slack card and the promotion path agree on every gate state', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const dir = tempDir();
        writeFileSync(join(dir, 'org.yml'), orgYaml(s));
        const rt = await testRuntime({ config: join(dir, 'org.yml') });
        try {
          const g = rt.governance;
          await g.registerConfiguredAgents();
          const policy = resolvePolicy(
            {
              rules: { protected_paths: { paths: ['infra/**'], action: 'require_approval', gate: 'g' } },
              gates: {
                g: s.council
                  ? { council: true, allow_owner: false }
                  : { approvals: s.approvals, allow_owner: false },
              },
            },
            { source: 'property' },
          );
          const agent = (await g.state.getAgent('builder-bot'))!;
          const now = new Date();
          const judge = async () =>
            evaluate(
              policy,
              tierCapabilities(g.config, 'T3'),
              facts,
              {
                agent,
                receipts: await g.receiptsFor('acme/web', 7),
                org: await g.configWithCouncil(),
                agentIdentities: g.agentIdentities(),
              },
              now,
            );
          // The request as Slack stored it: the decision that first waited, through the ledger's schema.
          const first = decisionRecord(await judge(), facts);
          const stored = ledgerPayloadSchemas['decision.recorded'].parse({ ...first, trigger: 'test' });
          const approvals = new SlackApprovals(g);
          const context = (await approvals.contextFor(
            { ...stored, agentId: 'builder-bot' },
            new Date(now.getTime() + 3600_000),
          ))!;

          for (const [i, v] of s.votes.entries()) {
            await g.record([
              {
                type: 'approval.recorded',
                agentId: null,
                actor: v.who,
                payload: {
                  repository: 'acme/web',
                  number: 7,
                  approver: v.who,
                  verdict: v.verdict,
                  gate: null,
                  headSha: SHA,
                  diffHash: diffHash(facts),
                  policyVersion: policy.version,
                  source: v.slack ? 'slack' : 'github_review',
                },
              },
            ]);
            expect(i).toBeGreaterThanOrEqual(0);
          }

          const check = await judge();
          const checkGate = check.gates.find((x) => x.gate === 'g')!;
          const cardTallies = await approvals.tallies(context);
          const promotion = await new Promotions(g, null).tally(
            {
              promotionId: 'promo-builder-bot-1',
              agentId: 'builder-bot',
              kind: 'promotion',
              from: 'T3',
              to: 'T4',
              required: s.council ? g.config.council!.quorum : s.approvals,
              council: s.council,
              requester: 'slack:UNOBODY',
              approvals: [],
              rejections: [],
              outcome: 'pending',
            },
            await g.receiptsFor('acme/web', 7),
          );

          expect(cardTallies.map((t) => t.state)).toEqual([checkGate.tally.state]);
          expect(promotion.state).toBe(checkGate.tally.state);
          expect(promotion.approvedBy).toEqual(checkGate.tally.approvedBy);
          expect(cardTallies[0]!.mayApprove).toEqual(checkGate.tally.mayApprove);

          // What people read: the card says Approved exactly when the check passes, never while it waits.
          const card = approvalRequestBlocks(context, [], requestOutcome(cardTallies), cardTallies);
          const cardSays = JSON.stringify(card.at(-1));
          const conclusion = renderCheckRun(check).conclusion;
          expect(cardSays.includes('*Approved*')).toBe(conclusion === 'success');
          expect(cardSays.includes('*Rejected*')).toBe(conclusion === 'failure');
          // An agent, the owner, or someone no gate names never counts.
          for (const who of checkGate.tally.approvedBy) {
            expect(['builder-bot[bot]', 'mallory', s.owner]).not.toContain(who);
          }
        } finally {
          await rt.close();
        }
      }),
      { numRuns: 60 },
    );
  });
});
