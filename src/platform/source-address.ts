import type { IncomingMessage } from 'node:http';

/** The caller's address as the socket has it (an IPv4 address without its IPv6 mapping). */
export function sourceAddress(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
