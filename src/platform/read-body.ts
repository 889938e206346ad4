import type { IncomingMessage, ServerResponse } from 'node:http';

export class BodyTooLargeError extends Error {}

/** The client went away (closed or reset the connection) before its body ended: no error of ours. */
export class RequestAbortedError extends Error {}

/** Too many unauthenticated bodies are being read at once: the caller should try again shortly. */
export class BodyReadsBusyError extends Error {
  readonly retryAfterSeconds = 1;
}

/**
 * A bound on the unauthenticated request bodies held in memory at once, in bytes and in count.
 * Signatures can only be checked over the whole body, so until then a body is a stranger's bytes
 * in our memory: 30 parallel 25 MB posts took the process from 100 MB to 710 MB. A body declares
 * its size (`content-length`) and reserves it before a byte is read; a chunked body reserves as
 * it grows. Small bodies, the usual ones, never wait on each other.
 */
export class BodyBudget {
  private bytes = 0;
  private reads = 0;

  constructor(
    readonly maxBytes: number,
    readonly maxReads: number,
  ) {}

  /** Bytes reserved by the reads under way (for tests and metrics). */
  get reservedBytes(): number {
    return this.bytes;
  }

  /** Starts a read of `bytes` (0 when unknown); false when the budget cannot take it now. */
  begin(bytes: number): boolean {
    if (this.reads >= this.maxReads || this.bytes + bytes > this.maxBytes) return false;
    this.reads++;
    this.bytes += bytes;
    return true;
  }

  /** Grows a read under way by `bytes`; false when the budget cannot take it now. */
  grow(bytes: number): boolean {
    if (this.bytes + bytes > this.maxBytes) return false;
    this.bytes += bytes;
    return true;
  }

  end(bytes: number): void {
    this.reads--;
    this.bytes -= bytes;
  }
}

/**
 * The raw request body, refusing more than `limit` bytes: a declared `content-length` past the
 * limit is refused before anything is read, a chunked body as soon as it passes it. Signatures are
 * computed over these bytes. With a `budget`, the read first reserves its share of it.
 *
 * A refused body is not destroyed (that would reset the connection before the 413 is sent): the
 * rest of it is discarded, and `refuseBody` answers and then closes the connection.
 */
export async function readBody(req: IncomingMessage, limit: number, budget?: BodyBudget): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > limit) throw new BodyTooLargeError(`body larger than ${limit} bytes`);
  const chunked = !Number.isInteger(declared);
  const reserved = chunked ? 0 : declared;
  if (budget && !budget.begin(reserved))
    throw new BodyReadsBusyError('too many request bodies are being read; try again shortly');
  let grown = 0;
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
        reject(error);
      };
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) return stop(new BodyTooLargeError(`body larger than ${limit} bytes`));
        if (budget && chunked) {
          if (!budget.grow(chunk.length))
            return stop(new BodyReadsBusyError('too many request bodies are being read; try again shortly'));
          grown += chunk.length;
        }
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
      req.on('data', onData);
      req.once('end', onEnd);
      req.once('error', onError);
      req.once('close', onClose);
    });
  } finally {
    budget?.end(reserved + grown);
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
