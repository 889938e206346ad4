import type { IncomingMessage, ServerResponse } from 'node:http';
import { json, LoopbackStandIn } from './loopback-stand-in.js';

export interface StandInPullRequest {
  number: number;
  title: string;
  author: string;
  headSha: string;
  files: { filename: string; patch: string; status?: string }[];
}

export interface CheckRunRecord {
  id: number;
  /** True for the call that created the check run; updates are recorded after it. */
  created: boolean;
  headSha: string;
  status: string;
  conclusion: string | null;
  title: string;
}

/** GitHub's REST API as on GitHub Enterprise Server (under /api/v3), for one repository. */
export class GithubStandIn extends LoopbackStandIn {
  readonly pulls = new Map<number, StandInPullRequest>();
  readonly checkRuns: CheckRunRecord[] = [];
  policy: string | null = null;
  /** Fault injection: answer every call with this status (502, or 403 rate-limited) until cleared. */
  failWith: 502 | 403 | null = null;

  constructor(
    readonly owner = 'acme',
    readonly repo = 'web',
  ) {
    super();
  }

  get repository() {
    return {
      full_name: `${this.owner}/${this.repo}`,
      name: this.repo,
      owner: { login: this.owner },
      default_branch: 'main',
    };
  }

  pullRequestPayload(number: number, action = 'opened') {
    const pr = this.pulls.get(number)!;
    return {
      action,
      number,
      installation: { id: 1 },
      repository: this.repository,
      sender: { login: pr.author },
      pull_request: this.pullJson(pr),
    };
  }

  /** The newest state of this app's check on a commit. */
  checkOn(headSha: string): CheckRunRecord | undefined {
    return this.checkRuns.filter((c) => c.headSha === headSha).at(-1);
  }

  private pullJson(pr: StandInPullRequest) {
    return {
      number: pr.number,
      title: pr.title,
      html_url: `https://github.example/${this.owner}/${this.repo}/pull/${pr.number}`,
      user: { login: pr.author },
      state: 'open',
      draft: false,
      head: { sha: pr.headSha, ref: `change-${pr.number}` },
      base: { ref: 'main' },
    };
  }

  protected handle(req: IncomingMessage, body: string, res: ServerResponse) {
    if (this.failWith) return this.fail(this.failWith, res);
    const path = new URL(req.url!, 'http://x').pathname.replace(/^\/api\/v3/, '');
    if (this.listing(path, res)) return;
    const data = body ? JSON.parse(body) : {};
    if (req.method === 'POST' && /^\/app\/installations\/\d+\/access_tokens$/.test(path)) {
      return json(res, 201, { token: 'ghs_stand_in', expires_at: '2099-01-01T00:00:00Z' });
    }
    const repoPrefix = `/repos/${this.owner}/${this.repo}`;
    if (path.includes('/contents/')) {
      if (path.startsWith(repoPrefix) && this.policy) {
        return json(res, 200, {
          type: 'file',
          encoding: 'base64',
          content: Buffer.from(this.policy).toString('base64'),
        });
      }
      return json(res, 404, { message: 'Not Found' });
    }
    const pull = /^\/repos\/[^/]+\/[^/]+\/pulls\/(\d+)(\/commits|\/files)?$/.exec(path);
    if (pull) return this.pull(Number(pull[1]), pull[2], res);
    if (path === repoPrefix) return json(res, 200, this.repository);
    if (this.checkRunCall(req.method, path, data, res)) return;
    json(res, 404, { message: `the stand-in has no ${req.method} ${path}` });
  }

  private fail(status: 502 | 403, res: ServerResponse) {
    if (status === 502) return json(res, 502, { message: 'Bad Gateway' });
    res.writeHead(403, {
      'content-type': 'application/json',
      'x-ratelimit-remaining': '0',
      // GitHub's own clock, as a rate limit's reset reads: the wall clock, as the real one.
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 1),
    });
    res.end(JSON.stringify({ message: 'API rate limit exceeded' }));
  }

  /** The installation's listings, answered whatever the method; false for any other path. */
  private listing(path: string, res: ServerResponse): boolean {
    if (path === '/app/installations') json(res, 200, [{ id: 1, account: { login: this.owner } }]);
    else if (path === '/installation/repositories')
      json(res, 200, { total_count: 1, repositories: [this.repository] });
    else if (path === `/repos/${this.owner}/${this.repo}/pulls`)
      json(
        res,
        200,
        [...this.pulls.values()].map((p) => this.pullJson(p)),
      );
    else return false;
    return true;
  }

  private pull(number: number, part: string | undefined, res: ServerResponse) {
    const pr = this.pulls.get(number);
    if (!pr) return json(res, 404, { message: 'Not Found' });
    if (part === '/commits') return json(res, 200, [{ sha: pr.headSha, commit: { message: pr.title } }]);
    if (part === '/files') {
      return json(
        res,
        200,
        pr.files.map((f) => {
          const additions = f.patch.split('\n').filter((l) => l.startsWith('+')).length;
          return {
            sha: `blob-${f.filename}-${pr.headSha}`,
            filename: f.filename,
            status: f.status ?? 'modified',
            additions,
            deletions: 0,
            changes: additions,
            patch: f.patch,
          };
        }),
      );
    }
    return json(res, 200, this.pullJson(pr));
  }

  /** Creating, listing and updating check runs; false for any other call. */
  private checkRunCall(
    method: string | undefined,
    path: string,
    data: { head_sha?: string; status?: string; conclusion?: string; output?: { title?: string } },
    res: ServerResponse,
  ): boolean {
    if (method === 'POST' && path === `/repos/${this.owner}/${this.repo}/check-runs`) {
      const id = this.checkRuns.length + 1;
      this.checkRuns.push({
        id,
        created: true,
        headSha: data.head_sha!,
        status: data.status!,
        conclusion: data.conclusion ?? null,
        title: data.output?.title ?? '',
      });
      json(res, 201, { id });
      return true;
    }
    const listed = /^\/repos\/[^/]+\/[^/]+\/commits\/([0-9a-f]{40})\/check-runs$/.exec(path);
    if (method === 'GET' && listed) {
      const latest = this.checkOn(listed[1]!);
      json(res, 200, {
        total_count: latest ? 1 : 0,
        check_runs: latest ? [{ id: latest.id, name: 'Agent Governance', head_sha: latest.headSha }] : [],
      });
      return true;
    }
    const update = /\/check-runs\/(\d+)$/.exec(path);
    if (method !== 'PATCH' || !update) return false;
    const first = this.checkRuns.find((c) => c.id === Number(update[1]));
    if (!first) json(res, 404, { message: 'Not Found' });
    else {
      this.checkRuns.push({
        ...first,
        created: false,
        status: data.status ?? first.status,
        conclusion: data.conclusion ?? null,
        title: data.output?.title ?? first.title,
      });
      json(res, 200, { id: first.id });
    }
    return true;
  }
}
