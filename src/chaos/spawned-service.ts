import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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

/** The service as a child process: started, killed with SIGKILL, started again on the same port. */
export class SpawnedService {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();

  constructor(private readonly env: Record<string, string>) {}

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
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready ')) resolveReady();
      });
      child.once('exit', (code) =>
        reject(new Error(`the service exited (${code}) before it was ready: ${errors}`)),
      );
    });
  }

  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}
