import type { IncomingMessage, ServerResponse } from 'node:http';
import { json, LoopbackStandIn } from './loopback-stand-in.js';
import { approveButtonValue } from './stand-in-requests.js';

/** Slack's Web API on loopback: answers every call `ok` and records it, with the message `ts` it gave. */
export class SlackStandIn extends LoopbackStandIn {
  /** Every Web API call, with the message `ts` each answer carried. */
  readonly calls: { method: string; args: Record<string, string>; ts: string }[] = [];
  /** Fault injection: 429 (with Retry-After) or 503 until cleared. */
  failWith: 429 | 503 | null = null;

  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }

  /** The approval key of every approval request card posted (not updated), in order. */
  approvalCards(): string[] {
    return this.calls
      .filter((c) => c.method === 'chat.postMessage' && c.args.blocks)
      .map((c) => approveButtonValue(c.args.blocks))
      .filter((k): k is string => k !== null);
  }

  protected handle(req: IncomingMessage, body: string, res: ServerResponse) {
    if (this.failWith === 429) {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
      return res.end(JSON.stringify({ ok: false, error: 'ratelimited' }));
    }
    if (this.failWith === 503) return json(res, 503, { ok: false, error: 'service_unavailable' });
    const method = new URL(req.url!, 'http://x').pathname.replace('/api/', '');
    const args = String(req.headers['content-type']).includes('json')
      ? JSON.parse(body || '{}')
      : Object.fromEntries(new URLSearchParams(body));
    const ts = method === 'chat.update' ? args.ts! : `${1700000000 + this.calls.length}.000100`;
    this.calls.push({ method, args, ts });
    json(res, 200, { ok: true, channel: args.channel, ts });
  }
}
