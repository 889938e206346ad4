/**
 * A file (or another answer) as GitHub last gave it: its text (null: there is none) and the ETag
 * to revalidate it.
 */
export interface CachedPolicyFile {
  text: string | null;
  etag: string | null;
  /** Set by a push that changed the file: use it only after GitHub says it still holds (304). */
  stale: boolean;
  fetchedAt: number;
}

/**
 * The files read from GitHub (a repository's policy and CODEOWNERS, its organisation's `.github`
 * policy), kept in this process per repository, branch and path, 404s included. A push to the default branch that
 * touches the file marks it stale; the next read then asks GitHub with `If-None-Match`, and a 304
 * (which GitHub does not charge against the rate limit) keeps the text. After `maxAgeMs` an entry is
 * revalidated the same way, in case a push was missed. Bounded: the least recently used repository
 * is dropped first. Nothing depends on it being there: a restart reads the files again. With several
 * replicas, each keeps its own and learns of pushes from the ledger (see `GithubIntegration`).
 */
export class PolicyCache {
  private readonly files = new Map<string, CachedPolicyFile>();
  /** Pushes seen per repository: a read that began before the latest one is stored stale. */
  private readonly pushes = new Map<string, number>();
  /** Whether the last `catchUp` failed: pushes may have been missed. */
  private behind = false;

  constructor(
    private readonly options: {
      maxEntries?: number;
      maxAgeMs?: number;
      now?: () => number;
      /**
       * Brings what invalidates entries up to date before a read (the ledger, which other replicas
       * write too). While it fails, every read revalidates (`caughtUp`).
       */
      catchUp?: () => Promise<void>;
    } = {},
  ) {}

  /**
   * Runs `catchUp` (see the constructor) before a read. While it fails (the ledger cannot be
   * followed: a state store that refuses writes), no entry counts as fresh: a push may have gone
   * by unseen, so every read asks GitHub again with its ETag (fail closed; a 304 is not charged).
   */
  async caughtUp(): Promise<void> {
    if (!this.options.catchUp) return;
    try {
      await this.options.catchUp();
      this.behind = false;
    } catch {
      this.behind = true;
    }
  }

  /**
   * The file of `repository` (owner/name) on `ref` (undefined: its default branch) at `path`
   * (default: the policy file) when usable now.
   */
  fresh(repository: string, ref: string | undefined, path = ''): CachedPolicyFile | null {
    const file = this.peek(repository, ref, path);
    if (!file || file.stale || this.behind) return null;
    const maxAge = this.options.maxAgeMs ?? 60 * 60_000;
    return this.now() - file.fetchedAt < maxAge ? file : null;
  }

  /** The file as last read, fresh or not (its ETag revalidates it). */
  peek(repository: string, ref: string | undefined, path = ''): CachedPolicyFile | null {
    const key = keyOf(repository, ref, path);
    const file = this.files.get(key);
    if (!file) return null;
    this.files.delete(key); // most recently used last
    this.files.set(key, file);
    return file;
  }

  /**
   * How many pushes have invalidated `repository` so far. A read takes it when it starts and gives
   * it back to `set`: an answer GitHub gave before a push that came during the read is kept only
   * to revalidate (its ETag), never used as it is.
   */
  generation(repository: string): number {
    return this.pushes.get(repository.toLowerCase()) ?? 0;
  }

  set(
    repository: string,
    ref: string | undefined,
    file: { text: string | null; etag: string | null },
    path = '',
    asOf = this.generation(repository),
  ): void {
    const key = keyOf(repository, ref, path);
    this.files.delete(key);
    const stale = asOf !== this.generation(repository);
    this.files.set(key, { ...file, stale, fetchedAt: this.now() });
    const max = this.options.maxEntries ?? 2000;
    while (this.files.size > max) this.files.delete(this.files.keys().next().value!);
  }

  /** A push changed a file of `repository` kept here: every cached read of it is revalidated. */
  invalidate(repository: string): void {
    this.pushes.set(repository.toLowerCase(), this.generation(repository) + 1);
    const prefix = `${repository.toLowerCase()}@`;
    for (const [key, file] of this.files) if (key.startsWith(prefix)) file.stale = true;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}

/** GitHub compares owner and repository names case-insensitively. */
function keyOf(repository: string, ref: string | undefined, path: string): string {
  return `${repository.toLowerCase()}@${ref ?? ''}${path ? `:${path}` : ''}`;
}
