import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import type { AsyncSeenRequests } from '../ledger/seen-requests.js';
import { clearCookie, openCookie, readCookie, sealCookie, setCookie } from './signed-cookie.js';
import type { WebConfig } from './web-config.js';

export const SESSION_COOKIE = 'agov_session';
export const STATE_COOKIE = 'agov_oauth_state';
/** A session lasts a working day; then GitHub is asked again (and what the person sees refreshed). */
export const SESSION_SECONDS = 8 * 3600;
const MAX_COOKIE_CHARS = 3800;
/** Sign-in has ten minutes between leaving for GitHub and coming back. */
const STATE_SECONDS = 600;

const sessionSchema = z.object({
  /** Names this session, so signing out ends it everywhere (the ID is remembered as ended). */
  sid: z.string().min(16),
  login: z.string().min(1),
  /** Repositories (lower case `owner/name`) the person could see through the App at sign-in. */
  repos: z.array(z.string()),
  exp: z.number(),
});
export type Session = z.infer<typeof sessionSchema>;

const stateSchema = z.object({ state: z.string().min(32), returnTo: z.string(), exp: z.number() });

/** Issues and checks the session and sign-in state cookies. `now` is passed so tests can move time. */
export class Sessions {
  constructor(
    private readonly config: WebConfig,
    private readonly now: () => number = Date.now,
    /** Ended sessions and used sign-in states, kept in the ledger database until they expire anyway. */
    private readonly ended: AsyncSeenRequests | null = null,
  ) {}

  /** Secure cookies when people reach us over HTTPS (PUBLIC_URL says so, or the socket is TLS). */
  secure(req: IncomingMessage): boolean {
    if (this.config.publicUrl) return this.config.publicUrl.startsWith('https://');
    return Boolean((req.socket as { encrypted?: boolean }).encrypted);
  }

  async read(req: IncomingMessage): Promise<Session | null> {
    const session = openCookie(
      this.config.sessionSecret,
      'session',
      readCookie(req, SESSION_COOKIE),
      sessionSchema,
      this.now(),
    );
    if (session && (await this.ended?.seen(`session:${session.sid}`, Math.floor(this.now() / 1000))))
      return null;
    return session;
  }

  /** Ends a session for good: its cookie, kept or copied, no longer opens anything. */
  async end(req: IncomingMessage): Promise<void> {
    const session = await this.read(req);
    if (session)
      await this.ended?.firstSight(
        `session:${session.sid}`,
        Math.ceil(session.exp / 1000),
        Math.floor(this.now() / 1000),
      );
  }

  /** The session cookie, or null when it would be too large for a browser to keep (about 4 KB). */
  issue(req: IncomingMessage, login: string, repos: string[]): string | null {
    const session: Session = {
      sid: randomBytes(16).toString('hex'),
      login,
      repos,
      exp: this.now() + SESSION_SECONDS * 1000,
    };
    const sealed = sealCookie(this.config.sessionSecret, 'session', session);
    // A browser drops a larger cookie silently, and the person would be sent round sign-in forever.
    if (sealed.length > MAX_COOKIE_CHARS) return null;
    return setCookie(SESSION_COOKIE, sealed, {
      maxAgeSeconds: SESSION_SECONDS,
      secure: this.secure(req),
    });
  }

  clear(req: IncomingMessage): string[] {
    return [clearCookie(SESSION_COOKIE, this.secure(req)), clearCookie(STATE_COOKIE, this.secure(req))];
  }

  /** A fresh `state` for GitHub, and the cookie that binds it to this browser. */
  beginSignIn(req: IncomingMessage, returnTo: string): { state: string; cookie: string } {
    const state = randomBytes(32).toString('base64url');
    const value = { state, returnTo, exp: this.now() + STATE_SECONDS * 1000 };
    return {
      state,
      cookie: setCookie(STATE_COOKIE, sealCookie(this.config.sessionSecret, 'oauth-state', value), {
        maxAgeSeconds: STATE_SECONDS,
        secure: this.secure(req),
      }),
    };
  }

  /** Where to go after sign-in, if the `state` GitHub sent back is the one this browser was given. */
  async finishSignIn(
    req: IncomingMessage,
    stateFromGithub: string | null,
  ): Promise<{ returnTo: string } | null> {
    const saved = openCookie(
      this.config.sessionSecret,
      'oauth-state',
      readCookie(req, STATE_COOKIE),
      stateSchema,
      this.now(),
    );
    if (!saved || !stateFromGithub) return null;
    const a = Buffer.from(saved.state);
    const b = Buffer.from(stateFromGithub);
    if (a.length !== b.length || !timingSafeEqual(a, b)) return null;
    // A state is used once: a replayed callback (another code, same state) is refused.
    if (
      this.ended &&
      !(await this.ended.firstSight(
        `oauth-state:${saved.state}`,
        Math.ceil(saved.exp / 1000),
        Math.floor(this.now() / 1000),
      ))
    )
      return null;
    return { returnTo: saved.returnTo };
  }
}

/** A local path to come back to after sign-in; anything else (another site, `//host`) goes home. */
export function localPath(value: string | null): string {
  if (!value?.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return '/';
  return /^[\x21-\x7e]*$/.test(value) ? value : '/';
}
