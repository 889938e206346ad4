import type { IncomingMessage, ServerResponse } from 'node:http';
import { json, LoopbackStandIn } from './loopback-stand-in.js';

/**
 * Vault's HTTP API, as much of it as the service uses: tier policies, an AppRole per agent, tokens
 * by AppRole login, and their revocation. It keeps which secret-ids and token accessors are live,
 * so a run can check that a revoked agent keeps none. `sealed` answers 503 as a sealed Vault does.
 */
export class VaultStandIn extends LoopbackStandIn {
  sealed = false;
  readonly policies = new Map<string, string>();
  /** Live secret-id accessors by AppRole role. */
  readonly secretIds = new Map<string, Set<string>>();
  /** Live token accessor → the role it logged in as. */
  readonly tokens = new Map<string, string>();
  private readonly pendingSecrets = new Map<string, string>();
  private readonly singleUse = new Set<string>();
  private next = 0;

  get addr(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  protected handle(req: IncomingMessage, body: string, res: ServerResponse) {
    const url = new URL(req.url!, 'http://x');
    const path = url.pathname.replace(/^\/v1\//, '');
    if (path === 'sys/health')
      return json(res, this.sealed ? 503 : 200, { initialized: true, sealed: this.sealed, standby: false });
    if (this.sealed) return json(res, 503, { errors: ['Vault is sealed'] });
    const data = body ? JSON.parse(body) : {};
    const done = () => res.writeHead(204).end();
    const policy = /^sys\/policies\/acl\/(.+)$/.exec(path);
    if (policy && (req.method === 'PUT' || req.method === 'POST')) {
      this.policies.set(policy[1]!, data.policy);
      return done();
    }
    if (path === 'sys/auth') return json(res, 200, { data: { 'approle/': { type: 'approle' } } });
    if (path === 'sys/auth/approle') return done();
    const role = /^auth\/approle\/role\/([^/]+)(\/.*)?$/.exec(path);
    if (role) {
      const [, name, rest = ''] = role as unknown as [string, string, string | undefined];
      if (this.approle(name, rest, url, data, res)) return;
    }
    if (path === 'auth/approle/login') return this.login(data, res);
    if (path === 'auth/token/revoke-accessor') {
      if (!this.tokens.delete(data.accessor)) return json(res, 400, { errors: ['invalid accessor'] });
      return done();
    }
    if (path.startsWith('secret/data/')) return json(res, 404, { errors: [] });
    json(res, 404, { errors: [`the stand-in has no ${req.method} ${path}`] });
  }

  /** One AppRole role's calls; false for a call under the role this stand-in does not know. */
  private approle(
    name: string,
    rest: string,
    url: URL,
    data: Record<string, unknown>,
    res: ServerResponse,
  ): boolean {
    const ids = this.secretIds.get(name) ?? new Set<string>();
    this.secretIds.set(name, ids);
    if (rest === '') res.writeHead(204).end();
    else if (rest === '/role-id') json(res, 200, { data: { role_id: `role-${name}` } });
    else if (rest === '/secret-id' && url.searchParams.has('list')) {
      if (ids.size) json(res, 200, { data: { keys: [...ids] } });
      else json(res, 404, { errors: [] });
    } else if (rest === '/secret-id') {
      const n = ++this.next;
      ids.add(`sid-acc-${n}`);
      this.pendingSecrets.set(`sid-${n}`, name);
      if (data.num_uses === 1) this.singleUse.add(`sid-acc-${n}`);
      json(res, 200, { data: { secret_id: `sid-${n}`, secret_id_accessor: `sid-acc-${n}` } });
    } else if (rest === '/secret-id-accessor/destroy') {
      ids.delete(data.secret_id_accessor as string);
      res.writeHead(204).end();
    } else return false;
    return true;
  }

  private login(data: Record<string, unknown>, res: ServerResponse) {
    const name = this.pendingSecrets.get(data.secret_id as string);
    if (!name || !this.secretIds.get(name)?.has(String(data.secret_id).replace('sid-', 'sid-acc-')))
      return json(res, 400, { errors: ['invalid secret id'] });
    const n = ++this.next;
    this.tokens.set(`tok-acc-${n}`, name);
    const used = String(data.secret_id).replace('sid-', 'sid-acc-');
    if (this.singleUse.delete(used)) this.secretIds.get(name)?.delete(used); // num_uses 1: consumed
    return json(res, 200, {
      auth: { client_token: `hvs.tok-${n}`, accessor: `tok-acc-${n}`, lease_duration: 900 },
    });
  }
}
