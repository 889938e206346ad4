import type { IncomingMessage, ServerResponse } from 'node:http';

export class BodyTooLargeError extends Error {}

/** The client went away (closed or reset the connection) before its body ended: no error of ours. */
export class RequestAbortedError extends Error {}

/** Too many unauthenticated bodies are being read at once: the caller should try again shortly. */
export class BodyReadsBusyError extends Error {
  readonly retryAfterSeconds = 1;
}

/** How fast an unsigned body must arrive (GitHub and Slack send theirs at network speed). */
export interface BodyReadLimits {
  /** The whole body within this (GitHub gives up on us after 10 s, Slack after 3 s). */
  deadlineMs: number;
  /** After this long, a body must keep up `minBytesPerSecond` on average... */
  graceMs: number;
  minBytesPerSecond: number;
}

export const DEFAULT_BODY_READ_LIMITS: BodyReadLimits = {
  deadlineMs: 10_000,
  graceMs: 1000,
  minBytesPerSecond: 64 * 1024,
};

/** A body read under way, as the budget sees it. */
interface BodyRead {
  readonly startedAt: number;
  /** Bytes received and held so far. */
  held: number;
  /** Ends the read and closes its connection. */
  readonly cut: (reason: string) => void;
}

/**
 * A bound on the unauthenticated request bodies held in memory at once, in bytes received and in
 * count. Signatures can only be checked over the whole body, so until then a body is a stranger's
 * bytes in our memory: 30 parallel 25 MB posts took the process from 100 MB to 710 MB.
 *
 * Strangers must not be able to keep the signed requests out by holding reads open (attack 14: three
 * trickling connections declaring 64 MB, or 130 declaring 1 KB, made every delivery 503): a read
 * holds only what it received, a read too slow (`BodyReadLimits`) or past its deadline is cut, and
 * when the slots or bytes are full a new read evicts the slowest read past its grace, else the oldest.
 */
export class BodyBudget {
  private bytes = 0;
  private readonly reads = new Set<BodyRead>();
  private sweeper: NodeJS.Timeout | undefined;
  readonly limits: BodyReadLimits;

  constructor(
    readonly maxBytes: number,
    readonly maxReads: number,
    limits: Partial<BodyReadLimits> = {},
    private readonly now: () => number = () => performance.now(),
  ) {
    const { deadlineMs, graceMs, minBytesPerSecond } = { ...DEFAULT_BODY_READ_LIMITS, ...limits };
    this.limits = { deadlineMs, graceMs, minBytesPerSecond };
  }

  /** Bytes held by the reads under way (for tests and metrics). */
  get reservedBytes(): number {
    return this.bytes;
  }

  get readsInProgress(): number {
    return this.reads.size;
  }

  /** Starts a read, evicting another when every slot is taken. */
  begin(cut: (reason: string) => void): BodyRead {
    if (this.reads.size >= this.maxReads) this.evict(this.victim(null), 'every read slot was taken');
    const read: BodyRead = { startedAt: this.now(), held: 0, cut };
    this.reads.add(read);
    this.sweeper ??= setInterval(() => this.sweep(), this.sweepMs()).unref();
    return read;
  }

  /** Grows a read by `bytes`, evicting others past the byte budget; false when it cannot. */
  grow(read: BodyRead, bytes: number): boolean {
    while (this.bytes + bytes > this.maxBytes) {
      const victim = this.victim(read);
      if (!victim) return false;
      this.evict(victim, 'the unsigned bodies in memory reached their budget');
    }
    read.held += bytes;
    this.bytes += bytes;
    return true;
  }

  /** Ends a read (once; again is a no-op). */
  end(read: BodyRead): void {
    if (!this.reads.delete(read)) return;
    this.bytes -= read.held;
    if (this.reads.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  /** Ends `read` here, then has it cut (its connection closed): room is made whatever it does. */
  private evict(read: BodyRead | undefined, why: string): void {
    if (!read) return;
    this.end(read);
    read.cut(`evicted: ${why}`);
  }

  /** The read to evict: the slowest of those past their grace, else the oldest; never `except`. */
  private victim(except: BodyRead | null): BodyRead | undefined {
    const now = this.now();
    let slowest: BodyRead | undefined;
    let oldest: BodyRead | undefined;
    for (const read of this.reads) {
      if (read === except) continue;
      oldest ??= read;
      if (now - read.startedAt <= this.limits.graceMs) continue;
      if (!slowest || rate(read, now) < rate(slowest, now)) slowest = read;
    }
    return slowest ?? oldest;
  }

  /** Cuts the reads past their deadline, and those behind the minimum rate after their grace. */
  private sweep(): void {
    const now = this.now();
    const { deadlineMs, graceMs, minBytesPerSecond } = this.limits;
    for (const read of [...this.reads]) {
      const elapsed = now - read.startedAt;
      const why =
        elapsed > deadlineMs
          ? `not whole within ${deadlineMs / 1000} s`
          : elapsed > graceMs && read.held < (minBytesPerSecond * (elapsed - graceMs)) / 1000
            ? `slower than ${minBytesPerSecond} bytes a second`
            : null;
      if (why) {
        this.end(read);
        read.cut(why);
      }
    }
  }

  private sweepMs(): number {
    return Math.max(10, Math.min(250, this.limits.graceMs / 2, this.limits.deadlineMs / 2));
  }
}

function rate(read: BodyRead, now: number): number {
  return read.held / Math.max(1, now - read.startedAt);
}

/** A body read cut by the service: too slow, past its deadline, or evicted for a newer one. */
export class BodyReadCutError extends RequestAbortedError {}

/**
 * The raw request body, refusing more than `limit` bytes: a declared `content-length` past the
 * limit is refused before anything is read, a chunked body as soon as it passes it. Signatures are
 * computed over these bytes. With a `budget`, the read holds its share of it as bytes arrive, and
 * the budget may cut it (the connection is closed: `BodyReadCutError`).
 *
 * A refused body is not destroyed (that would reset the connection before the 413 is sent): the
 * rest of it is discarded, and `refuseBody` answers and then closes the connection.
 */
export async function readBody(req: IncomingMessage, limit: number, budget?: BodyBudget): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > limit) throw new BodyTooLargeError(`body larger than ${limit} bytes`);
  let read: BodyRead | undefined;
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const stop = (error: Error) => {
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onError);
        req.off('close', onClose);
        // Discard the rest without holding it: the response goes out and the connection closes.
        req.resume();
        if (read) budget?.end(read);
        reject(error);
      };
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) return stop(new BodyTooLargeError(`body larger than ${limit} bytes`));
        if (read && !budget!.grow(read, chunk.length))
          return stop(new BodyReadsBusyError('too many request bodies are being read; try again shortly'));
        chunks.push(chunk);
      };
      const onEnd = () => {
        req.off('close', onClose);
        // A body that came in one chunk is that chunk: not copied again.
        resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
      };
      const gone = () => stop(new RequestAbortedError('the client went away before its body ended'));
      const onError = gone;
      const onClose = gone;
      read = budget?.begin((reason) => {
        stop(new BodyReadCutError(`body read cut: ${reason}`));
        req.socket.destroy();
      });
      req.on('data', onData);
      req.once('end', onEnd);
      req.once('error', onError);
      req.once('close', onClose);
    });
  } finally {
    if (read) budget?.end(read);
  }
}

/** How long a refused body may go on arriving (discarded) before its connection is closed. */
const LINGER_MS = 5000;

/**
 * Answers a body refused by `readBody`: 413, or 503 with `Retry-After`. The rest of the body is
 * read and discarded for a few seconds, then the connection is closed. Closing at once would reset
 * a connection the client is still writing to, and the client would never see the answer.
 */
export function refuseBody(
  req: IncomingMessage,
  res: ServerResponse,
  error: BodyTooLargeError | BodyReadsBusyError,
): void {
  const busy = error instanceof BodyReadsBusyError;
  const text = JSON.stringify({ error: busy ? 'busy' : 'too_large', message: error.message });
  res.writeHead(busy ? 503 : 413, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...(busy ? { 'retry-after': String(error.retryAfterSeconds) } : {}),
  });
  res.end(text);
  if (req.complete) return;
  req.resume();
  const socket = req.socket;
  const timer = setTimeout(() => socket.destroy(), LINGER_MS).unref();
  socket.once('close', () => clearTimeout(timer));
  req.once('end', () => clearTimeout(timer));
}

export function isBodyRefusal(error: unknown): error is BodyTooLargeError | BodyReadsBusyError {
  return error instanceof BodyTooLargeError || error instanceof BodyReadsBusyError;
}
