import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Loopback stand-ins for GitHub's REST API, Slack's Web API and Vault, for `agov demo`, the chaos
 * run and the browser test: enough of each for the service to work against, and a record of what
 * it was asked, to show as a user would see it. This is the shared part: a stand-in's HTTP server
 * on a free loopback port, each request handed over with its whole body.
 */
export abstract class LoopbackStandIn {
  private server: Server | null = null;
  port = 0;

  protected abstract handle(req: IncomingMessage, body: string, res: ServerResponse): void;

  async start(): Promise<this> {
    const server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      this.handle(req, Buffer.concat(chunks).toString(), res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  stop(): void {
    this.server?.close();
  }
}

export function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
