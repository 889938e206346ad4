import { afterEach, describe, expect, it } from 'vitest';
import type { Runtime } from '../../../src/app/open-runtime.js';
import { sqliteOf } from '../../../src/app/open-runtime.js';
import { dbOf } from '../../../src/ledger/ledger.js';
import { approvalQueries } from '../../../src/ledger/queries/approvals.js';
import { testRuntime } from '../../helpers/runtime.js';

let rt: Runtime | null = null;
afterEach(async () => {
  await rt?.close();
  rt = null;
});

interface Context {
  approvalKey: string;
  title: string;
  gates: { gate: string; approvals: number }[];
}

function posted(key: string, context: Context, channel: string, ts: string, createdAt: string) {
  return {
    approvalKey: key,
    repository: 'acme/web',
    number: 7,
    headSha: key.slice(key.lastIndexOf('@') + 1),
    installationId: 42,
    agentId: 'alpha',
    context,
    channel,
    ts,
    createdAt,
  };
}

describe('the Slack approval queries', () => {
  it('a request posted again keeps its context and state; only where its message is changes', async () => {
    rt = await testRuntime();
    const q = approvalQueries<Context>(sqliteOf(rt));
    const key = 'acme/web#7@abc';
    const context: Context = {
      approvalKey: key,
      title: 'Add "quotes" & ünïcode',
      gates: [{ gate: 'x', approvals: 2 }],
    };
    q.remember(posted(key, context, 'C1', '1.0', '2026-01-01T00:00:00.000Z'));
    q.setState(key, 'approved');
    const other: Context = { ...context, title: 'changed' };
    q.remember(posted(key, other, 'C2', '2.0', '2026-01-02T00:00:00.000Z'));

    expect(q.request(key)).toEqual({ context, state: 'approved', installationId: 42 });
    expect(q.message(key)).toEqual({ channel: 'C2', ts: '2.0' });
    expect(q.request('acme/web#7@unknown')).toBeNull();
    expect(q.state('acme/web#7@unknown')).toBeNull();
  });

  it('lists only waiting requests, oldest first, each once', async () => {
    rt = await testRuntime();
    const q = approvalQueries<Context>(sqliteOf(rt));
    const ctx = (key: string): Context => ({ approvalKey: key, title: key, gates: [] });
    q.remember(posted('acme/web#7@b', ctx('acme/web#7@b'), 'C', '2', '2026-01-02T00:00:00.000Z'));
    q.remember(posted('acme/web#7@a', ctx('acme/web#7@a'), 'C', '1', '2026-01-01T00:00:00.000Z'));
    q.remember(posted('acme/web#7@c', ctx('acme/web#7@c'), 'C', '3', '2026-01-03T00:00:00.000Z'));
    q.setState('acme/web#7@c', 'expired');

    expect(q.pending().map((p) => p.context.approvalKey)).toEqual(['acme/web#7@a', 'acme/web#7@b']);
    expect(
      q
        .pendingOnPullRequest('acme/web', 7)
        .map((p) => p.headSha)
        .sort(),
    ).toEqual(['a', 'b']);
    expect(q.pendingOfAgent('nobody')).toEqual([]);
  });

  it('a message remembered again under its key points to the new one', async () => {
    rt = await testRuntime();
    const q = approvalQueries(sqliteOf(rt));
    expect(q.slackMessage('promotion:1')).toBeNull();
    q.rememberSlackMessage('promotion:1', { channel: 'C1', ts: '1.0' });
    q.rememberSlackMessage('promotion:1', { channel: 'C2', ts: '2.0' });
    expect(q.slackMessage('promotion:1')).toEqual({ channel: 'C2', ts: '2.0' });
  });

  it('a state the service never writes is an error naming it, not a request read as waiting', async () => {
    rt = await testRuntime();
    const q = approvalQueries<Context>(sqliteOf(rt));
    const key = 'acme/web#7@abc';
    q.remember(
      posted(key, { approvalKey: key, title: 't', gates: [] }, 'C', '1', '2026-01-01T00:00:00.000Z'),
    );
    dbOf(sqliteOf(rt)).prepare("UPDATE slack_approvals SET state = 'bogus' WHERE approval_key = ?").run(key);
    expect(() => q.request(key)).toThrow('unknown state "bogus"');
    expect(() => q.state(key)).toThrow('unknown state "bogus"');
  });
});
