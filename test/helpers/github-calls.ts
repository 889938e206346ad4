import nock from 'nock';
import { afterEach, beforeEach, expect } from 'vitest';
import { API } from './github.js';

/**
 * Every call made to the GitHub API through `scope()` interceptors, as `METHOD path?query` in order,
 * and every call no interceptor answered. The installation token (`githubApi()`, its own scope) is
 * not listed: Probot caches it for an hour and it is not charged to the installation. Each test ends
 * by failing on any call nothing was stubbed for, and on any stubbed call not made.
 */
export function useGithubCalls() {
  const state = { calls: [] as string[], unexpected: [] as string[], scopes: [] as nock.Scope[] };
  const noMatch = (req: { method?: string; path?: string; host?: string; hostname?: string }) => {
    if ((req.hostname ?? req.host ?? '').startsWith('127.0.0.1')) return; // the service itself
    state.unexpected.push(`${req.method ?? '?'} ${req.hostname ?? req.host ?? '?'}${req.path ?? ''}`);
  };
  beforeEach(() => {
    state.calls = [];
    state.unexpected = [];
    state.scopes = [];
    nock.emitter.on('no match', noMatch);
  });
  afterEach(() => {
    nock.emitter.removeListener('no match', noMatch);
    expect(state.unexpected, 'calls to GitHub nothing was stubbed for').toEqual([]);
    expect(state.scopes.flatMap((s) => s.pendingMocks())).toEqual([]);
  });
  return {
    /** A nock scope on the GitHub API whose calls are recorded. */
    scope(): nock.Scope {
      const scope = nock(API);
      scope.on('request', (req: { method: string; path: string }) =>
        state.calls.push(`${req.method} ${req.path}`),
      );
      state.scopes.push(scope);
      return scope;
    },
    /** The calls recorded since the last `take()`, and forgets them. */
    take(): string[] {
      return state.calls.splice(0);
    },
    get unexpected() {
      return state.unexpected;
    },
  };
}
