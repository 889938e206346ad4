import type { ProbotOctokit } from 'probot';
import type { PolicyCache } from './policy-cache.js';

/** Where a cached answer lives: a repository (or `org/teams/slug`), a branch, a path. */
export interface CacheKey {
  repository: string;
  ref: string | undefined;
  path: string;
}

/**
 * A GitHub answer read through `cache`: used as it is while fresh, else asked again with its ETag
 * in `If-None-Match` (a 304, which GitHub does not charge, keeps it). A 404 is kept as null too.
 * `get` makes the call with the headers given and turns the answer into text.
 */
export function readCached(
  cache: PolicyCache,
  key: CacheKey,
  get: (headers: Record<string, string>) => Promise<{ text: string | null; etag: string | null }>,
): Promise<string | null> {
  const { repository, ref, path } = key;
  const fresh = cache.fresh(repository, ref, path);
  if (fresh) return Promise.resolve(fresh.text);
  // PRs decided at once that need the same file share one read of it, unless a push came between.
  const asOf = cache.generation(repository);
  const flight = `${repository.toLowerCase()}@${ref ?? ''}:${path}#${asOf}`;
  const reads = underWay.get(cache) ?? new Map<string, Promise<string | null>>();
  underWay.set(cache, reads);
  let reading = reads.get(flight);
  if (!reading) {
    reading = readAgain(cache, key, get, asOf).finally(() => reads.delete(flight));
    reads.set(flight, reading);
  }
  return reading;
}

/** Reads under way, per cache and key: the first asks GitHub, the others wait for its answer. */
const underWay = new WeakMap<PolicyCache, Map<string, Promise<string | null>>>();

async function readAgain(
  cache: PolicyCache,
  { repository, ref, path }: CacheKey,
  get: (headers: Record<string, string>) => Promise<{ text: string | null; etag: string | null }>,
  asOf: number,
): Promise<string | null> {
  const known = cache.peek(repository, ref, path);
  try {
    const answer = await get(known?.etag ? { 'if-none-match': known.etag } : {});
    cache.set(repository, ref, answer, path, asOf);
    return answer.text;
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status === 304 && known) {
      cache.set(repository, ref, { text: known.text, etag: known.etag }, path, asOf);
      return known.text;
    }
    if (status !== 404) throw error;
    cache.set(repository, ref, { text: null, etag: null }, path, asOf);
    return null;
  }
}

/** A file's text through the cache, as the contents API gives it (base64); null when there is none. */
export function readCachedFile(
  octokit: ProbotOctokit,
  cache: PolicyCache,
  owner: string,
  repo: string,
  path: string,
  ref: string | undefined,
  /** The cache's name for the path (the policy file's is '', as it always was). */
  cachePath = path,
): Promise<string | null> {
  return readCached(cache, { repository: `${owner}/${repo}`, ref, path: cachePath }, async (headers) => {
    const { data, headers: answered } = await octokit.rest.repos.getContent({
      owner,
      repo,
      path,
      ...(ref ? { ref } : {}),
      headers,
    });
    if (!Array.isArray(data) && data.type === 'file' && 'encoding' in data && data.encoding === 'none')
      throw Object.assign(
        new Error(`${owner}/${repo}:${path} is larger than the contents API returns (1 MB)`),
        {
          status: 413,
        },
      );
    const text =
      Array.isArray(data) || data.type !== 'file' || !('content' in data)
        ? null
        : Buffer.from(data.content, 'base64').toString('utf8');
    return { text, etag: answered.etag ?? null };
  });
}
