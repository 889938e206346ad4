import { z } from 'zod';
import { UserError } from '../platform/errors.js';

/** What this service keeps of GitHub's answer; each credential shaped so it can be written to `.env`. */
const conversionSchema = z.object({
  id: z.number().int().positive(),
  slug: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  html_url: z.url({ protocol: /^https?$/ }),
  pem: z
    .string()
    .regex(/^-----BEGIN (RSA )?PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END (RSA )?PRIVATE KEY-----\n?$/),
  webhook_secret: z.string().regex(/^[A-Za-z0-9._-]{8,}$/),
  client_id: z.string().regex(/^[A-Za-z0-9._-]+$/),
  client_secret: z.string().regex(/^[A-Za-z0-9._-]{8,}$/),
});
export type RegisteredApp = z.infer<typeof conversionSchema>;

/** A code as GitHub hands it out; anything else never reaches a URL path. */
export const MANIFEST_CODE = /^[A-Za-z0-9_-]{1,200}$/;

/**
 * The conversion failed for a reason worth trying again with the same code (GitHub unreachable or
 * failing); a code GitHub refused is a plain UserError.
 */
export class ConversionUnavailable extends UserError {}

/**
 * Exchanges the code GitHub sent back after the person created the App from our manifest for the
 * App's id, key and secrets: `POST /app-manifests/{code}/conversions` (no authentication; the code
 * works once, within an hour).
 */
export async function convertManifestCode(apiUrl: string, code: string): Promise<RegisteredApp> {
  if (!MANIFEST_CODE.test(code))
    throw new UserError('manifest_code_invalid', 'GitHub sent no code, or not one GitHub makes.');
  let res: Response;
  try {
    res = await fetch(`${apiUrl}/app-manifests/${encodeURIComponent(code)}/conversions`, {
      method: 'POST',
      headers: { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' },
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new ConversionUnavailable(
      'github_unreachable',
      `GitHub cannot be reached at ${apiUrl} (${(error as Error).name}).`,
    );
  }
  const body: unknown = await res.json().catch(() => null);
  const message = (body as { message?: unknown } | null)?.message;
  if (res.status === 404)
    throw new UserError(
      'manifest_code_unknown',
      'GitHub does not know this code: a code works once, within an hour of creating the App.',
    );
  if (res.status >= 400 && res.status < 500)
    throw new UserError(
      'manifest_code_refused',
      `GitHub refused the code (HTTP ${res.status}): ${typeof message === 'string' ? message : 'no reason given'}`,
    );
  if (res.status !== 201 && res.status !== 200)
    throw new ConversionUnavailable('github_failed', `GitHub answered HTTP ${res.status}; try again.`);
  const parsed = conversionSchema.safeParse(body);
  if (!parsed.success)
    throw new UserError(
      'manifest_answer_invalid',
      `GitHub's answer is not what the documentation describes (${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}).`,
    );
  return parsed.data;
}
