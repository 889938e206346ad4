/**
 * GitHub's REST API as the service uses it on a PR event, under /api/v3 as on GitHub Enterprise
 * Server, on loopback. It counts every call by route and records when each commit's completed check
 * run arrives (a create in its final state, or an update to it).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GithubStandIn {
  port: number;
  /** When each head SHA's completed check run was written (ms since the epoch). */
  completedAt: Map<string, number>;
  /** Calls by route (`GET /repos/:owner/:repo/pulls/:n/files`), since the last `resetCalls()`. */
  calls: Map<string, number>;
  resetCalls(): void;
  close(): void;
}

/** The installation token: cached by Probot for an hour and not charged to the installation. */
export const TOKEN_ROUTE = 'POST /app/installations/:id/access_tokens';

const CHANGED_FILE = {
  sha: 'b'.repeat(40),
  filename: 'docs/guide.md',
  status: 'modified',
  additions: 1,
  deletions: 0,
  changes: 1,
  patch: '@@ -1 +1,2 @@\n words\n+more words',
};

export async function githubStandIn(): Promise<GithubStandIn> {
  const completedAt = new Map<string, number>();
  const calls = new Map<string, number>();
  const checkRunSha = new Map<number, string>();
  let nextId = 1;
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {};
    const path = new URL(req.url!, 'http://x').pathname.replace(/^\/api\/v3/, '');
    const route = `${req.method} ${routeOf(path)}`;
    calls.set(route, (calls.get(route) ?? 0) + 1);
    const json = (status: number, data: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(data));
    };
    if (route === TOKEN_ROUTE) return json(201, { token: 'ghs_bench', expires_at: '2099-01-01T00:00:00Z' });
    if (path.includes('/contents/')) return json(404, { message: 'Not Found' });
    if (path.endsWith('/commits')) return json(200, [{ sha: 'c'.repeat(40), commit: { message: 'docs' } }]);
    if (path.endsWith('/files')) return json(200, [CHANGED_FILE]);
    if (req.method === 'POST' && path.endsWith('/check-runs')) {
      const id = nextId++;
      checkRunSha.set(id, body.head_sha);
      if (body.status === 'completed') completedAt.set(body.head_sha, Date.now());
      return json(201, { id });
    }
    const update = /\/check-runs\/(\d+)$/.exec(path);
    if (req.method === 'PATCH' && update) {
      const sha = checkRunSha.get(Number(update[1]));
      if (sha && body.status === 'completed') completedAt.set(sha, Date.now());
      return json(200, { id: Number(update[1]) });
    }
    json(404, { message: `stand-in has no ${route}` });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    completedAt,
    calls,
    resetCalls: () => calls.clear(),
    close: () => server.close(),
  };
}

/** A path as a route: owner, repository, numbers and SHAs named instead of spelled out. */
function routeOf(path: string): string {
  return path
    .replace(/^\/repos\/[^/]+\/[^/]+/, '/repos/:owner/:repo')
    .replace(/^\/app\/installations\/\d+/, '/app/installations/:id')
    .replace(/\/contents\/.*$/, '/contents/:path')
    .replace(/\/[0-9a-f]{40}(?=\/|$)/g, '/:sha')
    .replace(/\/\d+(?=\/|$)/g, '/:n');
}
