/**
 * What keeps secrets out of the log, in three layers:
 * 1. `serializeError`: errors are logged by an allowlist of fields. The clients we use attach the
 *    request they failed on to their errors (axios `config.headers` with `X-Vault-Token` or
 *    `Authorization: Bearer xoxb-…`, its `data` with an AppRole `secret_id`; Octokit's `request`),
 *    so anything not on the list is dropped, at every depth.
 * 2. `REDACT_PATHS` and `redactDeep`: every field name that can carry a credential is replaced,
 *    at the usual places by pino's `redact`, at any depth by a walk over the logged object.
 * 3. `scrubSecrets`: the written line itself, for credential formats that are recognisable
 *    wherever they appear (a message that quotes one, a payload logged at debug).
 */

const CENSOR = '[REDACTED]';

const SECRET_FIELDS = [
  'authorization',
  'Authorization',
  'proxy-authorization',
  'cookie',
  'Cookie',
  'set-cookie',
  'x-vault-token',
  'X-Vault-Token',
  'x-hub-signature',
  'x-hub-signature-256',
  'x-slack-signature',
  'token',
  'client_token',
  'accessToken',
  'botToken',
  'appToken',
  'secret_id',
  'secretId',
  'client_secret',
  'clientSecret',
  'privateKey',
  'private_key',
  'signingSecret',
  'webhookSecret',
  'password',
];

const path = (field: string) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(field) ? `.${field}` : `["${field}"]`);

/**
 * pino's `redact`, for the places a credential usually sits: a field at the top level or in the
 * headers of a request, its config or its options. Explicit paths only: pino's `*` wildcards cost
 * 80-120 µs a line with this many fields (against 3 µs), so any other depth is `redactDeep`'s.
 */
export const REDACT_PATHS: string[] = SECRET_FIELDS.flatMap((f) => [
  path(f).replace(/^\./, ''),
  ...['headers', 'req.headers', 'request.headers', 'config.headers', 'options.headers'].map(
    (at) => `${at}${path(f)}`,
  ),
]);

export const REDACT = { paths: REDACT_PATHS, censor: CENSOR };

const SECRET_KEYS = new Set(SECRET_FIELDS.map((f) => f.toLowerCase()));
const MAX_DEPTH = 10;

/**
 * A copy of a log object with every credential field replaced at any depth, and every error in it
 * reduced to `serializeError`'s fields (pino serialises only `err` and `error` keys; an error under
 * another key would be written with all its own fields). The caller's objects are never changed.
 */
export function redactDeep(object: Record<string, unknown>): Record<string, unknown> {
  return walk(object, 0) as Record<string, unknown>;
}

function walk(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return serializeError(value);
  if (depth >= MAX_DEPTH) return '[too deep to log]';
  if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1));
  // Dates, Buffers and other values that say how they are written are written so.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value))
    out[key] = SECRET_KEYS.has(key.toLowerCase()) ? CENSOR : walk(v, depth + 1);
  return out;
}

/** Fields of an error worth logging: what happened and where, never what was sent. */
const ERROR_FIELDS = [
  'code',
  'errno',
  'syscall',
  'address',
  'port',
  'status',
  'statusCode',
  'retryAfter',
  'attemptNumber',
  'retriesLeft',
];

/** Fields of a response body worth logging: the service's own error text. */
const BODY_FIELDS = ['message', 'error', 'errors'];

export function serializeError(value: unknown): unknown {
  return errorShape(value, 0);
}

function errorShape(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth > 3) return '[error nested too deep]';
  const e = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const name = (value as { constructor?: { name?: string } }).constructor?.name;
  if (name && name !== 'Object') out.type = name;
  else if (typeof e.type === 'string') out.type = e.type;
  if (typeof e.message === 'string') out.message = e.message;
  if (typeof e.stack === 'string') out.stack = e.stack;
  for (const key of ERROR_FIELDS) {
    const v = e[key];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[key] = v;
  }
  // Slack's platform errors: `data.error` is the reason (`channel_not_found`).
  const body = bodyShape(e.data);
  if (body) out.data = body;
  // Vault's and Octokit's HTTP errors: the status and the service's error text, nothing else.
  const response = e.response as Record<string, unknown> | undefined;
  if (response && typeof response === 'object') {
    const r: Record<string, unknown> = {};
    for (const key of ['status', 'statusCode']) if (typeof response[key] === 'number') r[key] = response[key];
    const b = bodyShape(response.body ?? response.data);
    if (b) r.body = b;
    out.response = r;
  }
  if (e.cause !== undefined) out.cause = errorShape(e.cause, depth + 1);
  // An error that wraps another (Slack's `original`, AggregateError's `errors`).
  if (e.original !== undefined) out.original = errorShape(e.original, depth + 1);
  if (Array.isArray(e.errors))
    out.errors = e.errors.slice(0, 10).map((x) => (typeof x === 'string' ? x : errorShape(x, depth + 1)));
  return out;
}

function bodyShape(body: unknown): Record<string, unknown> | null {
  if (!body || typeof body !== 'object') return null;
  const b = body as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of BODY_FIELDS) {
    const v = b[key];
    if (typeof v === 'string') out[key] = v.slice(0, 500);
    else if (Array.isArray(v)) out[key] = v.filter((x) => typeof x === 'string').slice(0, 10);
  }
  return Object.keys(out).length ? out : null;
}

/**
 * Credential formats recognisable anywhere: an HTTP auth scheme with its value, PEM private keys
 * (whole, or cut short: up to the end of their base64), JWTs (a GitHub App's), the password of a
 * connection URL (`redis://user:password@host`: only the password goes), Vault (`hvs.`, `hvb.`,
 * `hvr.`, legacy `s.`), Slack (`xoxb-`, `xapp-`…), GitHub (`ghs_`, `ghp_`…, `github_pat_`), and
 * this service's agent tokens (`agov_`).
 */
const SECRET_PATTERN = new RegExp(
  [
    '-----BEGIN [A-Z ]*PRIVATE KEY-----[\\s\\S]*?-----END [A-Z ]*PRIVATE KEY-----',
    // Cut short (no END line): its base64, over real newlines or JSON-escaped ones.
    '-----BEGIN [A-Z ]*PRIVATE KEY-----(?:[A-Za-z0-9+/=\\s]|\\\\n)*',
    '\\beyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]*',
    '(?<=[a-z][a-z0-9+.-]*://[^/\\s:@"]*:)[^@\\s/"]+(?=@)',
    '\\b(?:Bearer|Basic|bearer|basic|token) [A-Za-z0-9._~+/=-]{16,}',
    '\\bhv[sbr]\\.[A-Za-z0-9_-]{16,}',
    '\\bxox[abposr]-[A-Za-z0-9-]{8,}',
    '\\bxapp-[A-Za-z0-9-]{8,}',
    '\\bgh[pousr]_[A-Za-z0-9]{16,}',
    '\\bgithub_pat_[A-Za-z0-9_]{16,}',
    '\\bagov_[A-Za-z0-9-]+_[A-Za-z0-9_-]{43}',
  ].join('|'),
  'g',
);

/** The written log line with every recognisable credential replaced. */
export function scrubSecrets(line: string): string {
  return line.replace(SECRET_PATTERN, CENSOR);
}
