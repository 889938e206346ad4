import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { z } from 'zod';

/**
 * A value kept by the browser and trusted when it comes back: JSON, deflated (a person's list of
 * repositories is long and repetitive), base64url, then an HMAC-SHA256 of it under the session key
 * and the cookie's purpose, so a cookie of one kind is never accepted as another. It carries its own
 * expiry, checked on every read; the browser's Max-Age is only a courtesy.
 */
export function sealCookie(secret: Buffer, purpose: string, value: unknown): string {
  const body = deflateRawSync(Buffer.from(JSON.stringify(value), 'utf8')).toString('base64url');
  return `${body}.${mac(secret, purpose, body)}`;
}

/** The value of a sealed cookie, or null when it is missing, forged, altered, expired or malformed. */
export function openCookie<T extends { exp: number }>(
  secret: Buffer,
  purpose: string,
  sealed: string | undefined,
  schema: z.ZodType<T>,
  nowMs: number,
): T | null {
  if (!sealed || sealed.length > 8192) return null;
  const dot = sealed.lastIndexOf('.');
  if (dot <= 0) return null;
  const body = sealed.slice(0, dot);
  const given = Buffer.from(sealed.slice(dot + 1), 'base64url');
  const expected = Buffer.from(mac(secret, purpose, body), 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  try {
    const json = inflateRawSync(Buffer.from(body, 'base64url'), { maxOutputLength: 64 * 1024 });
    const parsed = schema.safeParse(JSON.parse(json.toString('utf8')));
    if (!parsed.success || parsed.data.exp <= nowMs) return null;
    return parsed.data;
  } catch {
    return null;
  }
}

function mac(secret: Buffer, purpose: string, body: string): string {
  return createHmac('sha256', secret).update(`${purpose}\n${body}`).digest('base64url');
}

export interface CookieOptions {
  maxAgeSeconds: number;
  secure: boolean;
}

/** A `Set-Cookie` value: HttpOnly, SameSite=Lax, whole site, Secure when people reach us over HTTPS. */
export function setCookie(name: string, value: string, options: CookieOptions): string {
  return [
    `${name}=${value}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Lax',
    `Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`,
    ...(options.secure ? ['Secure'] : []),
  ].join('; ');
}

export function clearCookie(name: string, secure: boolean): string {
  return setCookie(name, '', { maxAgeSeconds: 0, secure });
}

export function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
