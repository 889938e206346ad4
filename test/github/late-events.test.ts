/**
 * An event for a head the PR has left (GitHub delivered it late, or it is a captured delivery sent
 * again under a new id) never becomes the PR's newest decision nor moves its check: the kill switch
 * fails the check of the PR's real head. Through the real webhook endpoint with signed deliveries.
 */
import { describe, expect, it } from 'vitest';
import { agentPullRequest, examplePayload, file, postWebhook, useGithubService } from '../helpers/github.js';
import { github } from './pr-fakes.js';

const ctx = useGithubService();

const S0 = '0'.repeat(40);
const S1 = '1'.repeat(40);
const S2 = '2'.repeat(40);
const NUMBER = 1100;

function event(action: string, after: string, before?: string) {
  const payload = agentPullRequest(action === 'synchronize' ? action : 'opened', { sha: after });
  payload.action = action;
  payload.pull_request.updated_at = '2019-05-15T15:20:33Z'; // as the attack sent them: all the same
  payload.number = NUMBER;
  payload.pull_request.number = NUMBER;
  if (before) {
    payload.before = before;
    payload.after = after;
  }
  return payload;
}

async function send(payload: unknown) {
  expect((await postWebhook(ctx.service.port, 'pull_request', payload)).status).toBe(202);
  await ctx.service.github!.drain();
}

const headsDecided = async () =>
  (
    (await ctx.service.runtime.store.reader.all(
      'SELECT head_sha FROM decisions WHERE number = ? ORDER BY seq',
      [NUMBER],
    )) as { head_sha: string }[]
  ).map((r) => r.head_sha);

describe('a late event for an older head', () => {
  it('a synchronize S0->S1 arriving after S1->S2 was decided moves nothing; revocation fails S2', async () => {
    const gh = github([file('docs/a.md', '@@ -1 +1 @@\n+x')]);
    await send(event('opened', S1));
    await send(event('synchronize', S2, S1));
    expect(gh.last(S2)).toMatchObject({ conclusion: 'success' });
    const calls = gh.calls.length;

    await send(event('synchronize', S1, S0));
    expect(gh.calls.slice(calls)).toEqual([]); // no check of S1 written again
    expect(await headsDecided()).toEqual([S1, S2]);

    await ctx.service.revocations.revoke('docs-bot', 'leaked a key', 'carol');
    await ctx.service.github!.drain();
    expect(gh.last(S2)).toMatchObject({ conclusion: 'failure' });
    expect(gh.calls.slice(calls).map((c) => c.sha)).toEqual([S2]);
  });

  it('an edit or a review of the head the PR left is left alone too', async () => {
    const gh = github([file('docs/a.md', '@@ -1 +1 @@\n+x')]);
    await send(event('opened', S1));
    await send(event('synchronize', S2, S1));
    const calls = gh.calls.length;
    const edited = event('edited', S1);
    edited.pull_request.title = 'an old title';
    await send(edited);
    const review = examplePayload('pull_request_review', 'submitted');
    review.installation = { id: 1 };
    review.repository = edited.repository;
    review.pull_request = event('opened', S1).pull_request;
    review.review = { ...review.review, state: 'approved', commit_id: S1, user: { login: 'alice' } };
    expect((await postWebhook(ctx.service.port, 'pull_request_review', review)).status).toBe(202);
    await ctx.service.github!.drain();
    expect(gh.calls.slice(calls)).toEqual([]);
    expect(await headsDecided()).toEqual([S1, S2]);
  });

  it('a push back to a commit the PR had (S1->S2->S1) is decided: it continues from the head', async () => {
    const gh = github([file('docs/a.md', '@@ -1 +1 @@\n+x')]);
    await send(event('opened', S1));
    await send(event('synchronize', S2, S1));
    await send(event('synchronize', S1, S2));
    expect(await headsDecided()).toEqual([S1, S2, S1]);
    expect(gh.last(S1)).toMatchObject({ conclusion: 'success' });
  });

  it('a newer snapshot (a later updated_at) at a commit the PR had is decided', async () => {
    github([file('docs/a.md', '@@ -1 +1 @@\n+x')]);
    await send(event('opened', S1));
    await send(event('synchronize', S2, S1));
    const later = event('synchronize', S1, S0);
    later.pull_request.updated_at = '2030-01-01T00:00:00Z';
    await send(later);
    expect(await headsDecided()).toEqual([S1, S2, S1]);
  });
});
