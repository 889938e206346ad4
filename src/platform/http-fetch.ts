import http from 'node:http';
import https from 'node:https';

/** Kept-alive connections per protocol: every GitHub call of a busy service reuses a few sockets. */
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 64 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 64 }),
};

/** What Octokit reads of a fetch answer. */
interface FetchAnswer {
  status: number;
  statusText: string;
  url: string;
  ok: boolean;
  headers: Headers;
  body: null;
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * `fetch` for Octokit (its documented `request.fetch` option) over `node:http` with kept-alive
 * sockets: a whole answer read into memory, which is what Octokit does with it anyway. Node's own
 * fetch spends several times the CPU per call; at two GitHub calls per PR event that was the largest
 * single cost of a decision. Anything it does not do itself (a stream body, a redirect to follow)
 * goes to the global `fetch`.
 */
export const httpFetch = (async (input: string | URL, init: RequestInit = {}) => {
  const url = new URL(String(input));
  const body = init.body;
  const agent = agents[url.protocol as keyof typeof agents];
  if (!agent || (body != null && typeof body !== 'string' && !Buffer.isBuffer(body)))
    return fetch(input, init);
  const answer = await send(url, agent, init, body ?? undefined);
  if (REDIRECTS.has(answer.status) && init.redirect !== 'manual' && answer.headers.has('location'))
    return fetch(input, init);
  return answer;
}) as typeof fetch;

function send(
  url: URL,
  agent: http.Agent,
  init: RequestInit,
  body: string | Buffer | undefined,
): Promise<FetchAnswer> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      url,
      {
        method: init.method ?? 'GET',
        headers: init.headers as Record<string, string>,
        agent,
        ...(init.signal ? { signal: init.signal } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => resolve(answerOf(url, res, Buffer.concat(chunks))));
      },
    );
    // As fetch reports them: an abort as itself, anything else as a TypeError with its cause.
    req.on('error', (error) =>
      reject(error.name === 'AbortError' ? error : new TypeError('fetch failed', { cause: error })),
    );
    req.end(body);
  });
}

function answerOf(url: URL, res: http.IncomingMessage, data: Buffer): FetchAnswer {
  const headers = new Headers();
  for (let i = 0; i < res.rawHeaders.length; i += 2)
    headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
  const status = res.statusCode ?? 0;
  return {
    status,
    statusText: res.statusMessage ?? '',
    url: url.href,
    ok: status >= 200 && status < 300,
    headers,
    body: null,
    text: async () => data.toString('utf8'),
    json: async () => JSON.parse(data.toString('utf8')),
    arrayBuffer: async () =>
      data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer,
  };
}
