/**
 * Attack 14 F1: strangers without the secret cannot keep GitHub's deliveries out by holding body
 * reads open. Real sockets write the attackers' requests by hand; the service runs with short
 * limits on a clock of the test's own: the attackers are cut when the test moves it on, and the
 * test waits for what happens, never for a time.
 */
import { connect, type Socket } from 'node:net';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { postWebhook, useGithubService } from '../helpers/github.js';

const MB = 1024 * 1024;
const until = { timeout: 15_000, interval: 20 };

interface Attacker {
  socket: Socket;
  /** Resolves when the service closed the connection. */
  closed: Promise<void>;
  stop: () => void;
}

/**
 * A request with a wrong signature declaring `declared` bytes of body, of which it sends one
 * every `everyMs` (or only the first few when `everyMs` is 0), until the service closes it.
 */
function slowPost(port: number, declared: number, everyMs: number): Attacker {
  const socket = connect(port, '127.0.0.1');
  let timer: NodeJS.Timeout | undefined;
  const closed = new Promise<void>((resolve) => {
    socket.on('close', () => {
      clearInterval(timer);
      resolve();
    });
  });
  socket.on('error', () => {});
  socket.on('connect', () => {
    socket.write(
      'POST /api/github/webhooks HTTP/1.1\r\nhost: 127.0.0.1\r\nx-github-event: pull_request\r\n' +
        `x-github-delivery: ${crypto.randomUUID()}\r\nx-hub-signature-256: sha256=${'0'.repeat(64)}\r\n` +
        `content-length: ${declared}\r\n\r\n{"a":`,
    );
    if (everyMs) timer = setInterval(() => socket.write('1'), everyMs);
  });
  return { socket, closed, stop: () => socket.destroy() };
}

const signedDelivery = (port: number) => postWebhook(port, 'star', { action: 'created' });

/** The clock the body reads are timed by, in ms; each test starts it at 0. */
let clock = 0;
beforeEach(() => {
  clock = 0;
});
const now = () => clock;

describe('slow unsigned bodies lose to GitHub’s deliveries', () => {
  const ctx = useGithubService({ github: { bodies: { graceMs: 100, now } } });

  it('three trickling connections declaring 64 MB between them hold no budget; a signed delivery gets 202 and they are cut', async () => {
    const { port, github } = ctx.service;
    const attackers = [25 * MB, 25 * MB, 14 * MB].map((declared) => slowPost(port, declared, 50));
    await vi.waitFor(() => expect(github!.bodies.readsInProgress).toBe(3), until);
    expect(github!.bodies.reservedBytes).toBeLessThan(1024);
    expect((await signedDelivery(port)).status).toBe(202);
    // A second past their grace they are far too slow for a body GitHub sends: the service closes
    // them, not the attackers.
    clock = 1100;
    await Promise.all(attackers.map((a) => a.closed));
    expect(github!.bodies.readsInProgress).toBe(0);
  });

  it('130 stalled connections fill every read slot: a signed delivery still gets 202, and every stalled one is closed', async () => {
    const { port, github } = ctx.service;
    const slots = github!.bodies.maxReads;
    const attackers = Array.from({ length: slots + 2 }, () => slowPost(port, 1000, 0));
    await vi.waitFor(() => expect(github!.bodies.readsInProgress).toBe(slots), until);
    expect((await signedDelivery(port)).status).toBe(202);
    clock = 1100;
    await Promise.all(attackers.map((a) => a.closed));
    expect(github!.bodies.readsInProgress).toBe(0);
  });
});

describe('a body has a deadline to arrive whole', () => {
  const ctx = useGithubService({
    github: { bodies: { graceMs: 60_000, deadlineMs: 300, minBytesPerSecond: 1, now } },
  });

  it('a sender that keeps sending but never finishes is closed at the deadline; a signed delivery gets 202 meanwhile', async () => {
    const { port, github } = ctx.service;
    const attacker = slowPost(port, 1000, 20);
    await vi.waitFor(() => expect(github!.bodies.readsInProgress).toBe(1), until);
    expect((await signedDelivery(port)).status).toBe(202);
    clock = 301;
    await attacker.closed;
    expect(github!.bodies.readsInProgress).toBe(0);
  });
});
