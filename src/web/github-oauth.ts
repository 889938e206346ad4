import { z } from 'zod';
import { UserError } from '../platform/errors.js';
import type { WebConfig } from './web-config.js';

/**
 * The GitHub side of sign-in, at the documented paths: the web application flow
 * (`/login/oauth/authorize`, `POST /login/oauth/access_token`), then `GET /user` and what the person
 * may see through this App: `GET /user/installations` and each one's
 * `GET /user/installations/{id}/repositories`. The token is used here and then forgotten.
 */
export function authorizeUrl(config: WebConfig, redirectUri: string, state: string): string {
  const url = new URL(`${config.githubWebUrl}/login/oauth/authorize`);
  url.searchParams.set('client_id', config.clientId);
  url.searchParams.set('redirect_uri', redirectUri);
  url.searchParams.set('state', state);
  url.searchParams.set('allow_signup', 'false');
  return url.href;
}

const tokenAnswer = z.union([
  z.object({ access_token: z.string().min(1) }),
  z.object({ error: z.string(), error_description: z.string().optional() }),
]);

export async function exchangeCode(config: WebConfig, code: string, redirectUri: string): Promise<string> {
  const res = await fetch(`${config.githubWebUrl}/login/oauth/access_token`, {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/json' },
    body: JSON.stringify({
      client_id: config.clientId,
      client_secret: config.clientSecret,
      code,
      redirect_uri: redirectUri,
    }),
    signal: AbortSignal.timeout(10_000),
  });
  const parsed = tokenAnswer.safeParse(await res.json().catch(() => null));
  if (!res.ok || !parsed.success)
    throw new UserError(
      'oauth_exchange_failed',
      `GitHub did not exchange the sign-in code (HTTP ${res.status})`,
    );
  if ('error' in parsed.data)
    throw new UserError(
      'oauth_exchange_refused',
      `GitHub refused the sign-in code: ${parsed.data.error_description ?? parsed.data.error}`,
    );
  return parsed.data.access_token;
}

const userSchema = z.object({ login: z.string().min(1) });
const installationsSchema = z.object({ installations: z.array(z.object({ id: z.number().int() })) });
const repositoriesSchema = z.object({
  total_count: z.number().int(),
  repositories: z.array(z.object({ full_name: z.string() })),
});

/** Pages read per list at most: 10 × 100 repositories per installation. */
const MAX_PAGES = 10;

export interface GithubPerson {
  login: string;
  /** `owner/name`, lower case: what this App is installed on and the person can see. */
  repositories: string[];
}

export async function readPerson(config: WebConfig, token: string): Promise<GithubPerson> {
  const get = async <T>(path: string, schema: z.ZodType<T>): Promise<T> => {
    const res = await fetch(`${config.githubApiUrl}${path}`, {
      headers: {
        accept: 'application/vnd.github+json',
        authorization: `Bearer ${token}`,
        'x-github-api-version': '2022-11-28',
        'user-agent': 'agent-governance',
      },
      signal: AbortSignal.timeout(10_000),
    });
    const parsed = schema.safeParse(await res.json().catch(() => null));
    if (!res.ok || !parsed.success)
      throw new UserError('github_user_read_failed', `GitHub did not answer ${path} (HTTP ${res.status})`);
    return parsed.data;
  };
  const user = await get('/user', userSchema);
  const repositories = new Set<string>();
  const { installations } = await get('/user/installations?per_page=100', installationsSchema);
  for (const installation of installations) {
    for (let page = 1; page <= MAX_PAGES; page++) {
      const answer = await get(
        `/user/installations/${installation.id}/repositories?per_page=100&page=${page}`,
        repositoriesSchema,
      );
      for (const r of answer.repositories) repositories.add(r.full_name.toLowerCase());
      if (answer.repositories.length < 100) break;
    }
  }
  return { login: user.login, repositories: [...repositories].sort() };
}
