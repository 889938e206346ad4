import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PeriodicWorkEvent } from '../app/replicas.js';
import type { PeriodicSpan } from './invariants/invariant.js';

/** The line a chaos service process prints for each piece of periodic work starting or ending. */
export const PERIODIC_LINE = 'periodic ';

/** The service's own process (built JavaScript): beside this file when built, else the build of the sources. */
function serviceEntry(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [
    join(here, 'service-process.js'),
    resolve(here, '../../dist/src/chaos/service-process.js'),
  ])
    if (existsSync(candidate)) return candidate;
  throw new Error('the chaos run starts the built service: run `npm run build` first');
}

/**
 * The service as a child process: started, killed with SIGKILL, started again on the same port.
 * It keeps the periodic work each of its processes said it did (a process killed midway did it
 * until the kill).
 */
export class SpawnedService {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private open: PeriodicSpan[] = [];
  readonly spans: PeriodicSpan[] = [];

  constructor(
    private readonly env: Record<string, string>,
    readonly replica = 0,
  ) {}

  /** Reads the process's periodic-work lines (stdout to a pipe is written synchronously on Linux). */
  private follow(line: string): void {
    if (!line.startsWith(PERIODIC_LINE)) return;
    const event = JSON.parse(line.slice(PERIODIC_LINE.length)) as PeriodicWorkEvent;
    if (event.phase === 'start') {
      const { what, fence, at } = event;
      this.open.push({ replica: this.replica, what, fence, start: at, end: Number.POSITIVE_INFINITY });
      return;
    }
    const i = this.open.findIndex((s) => s.what === event.what);
    if (i >= 0) this.spans.push({ ...this.open.splice(i, 1)[0]!, end: event.at });
  }

  /** When this replica last started a piece of periodic work (0: never). */
  lastPeriodicAt(): number {
    return Math.max(0, ...this.open.map((s) => s.start), ...this.spans.map((s) => s.start));
  }

  /** The process is gone: whatever it had started ended by now. */
  private ended(at: number): void {
    for (const span of this.open.splice(0)) this.spans.push({ ...span, end: at });
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, [serviceEntry()], {
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exited = new Promise((r) => child.once('exit', () => r()));
    let errors = '';
    child.stderr!.on('data', (d: Buffer) => {
      errors = (errors + d.toString()).slice(-4000);
    });
    await new Promise<void>((resolveReady, reject) => {
      let partial = '';
      child.stdout!.on('data', (d: Buffer) => {
        const lines = (partial + d.toString()).split('\n');
        partial = lines.pop()!;
        for (const line of lines) {
          if (line.startsWith('ready ')) resolveReady();
          this.follow(line);
        }
      });
      child.once('exit', (code) =>
        reject(new Error(`the service exited (${code}) before it was ready: ${errors}`)),
      );
    });
  }

  async kill(): Promise<void> {
    const at = Date.now();
    this.child?.kill('SIGKILL');
    await this.exited;
    this.ended(at);
  }

  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
    this.ended(Date.now());
  }
}
