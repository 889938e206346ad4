import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort } from './private-redis.js';

/**
 * A private PostgreSQL server for a test file or a bench: its own cluster in a temporary directory, on a
 * free loopback port, trust authentication (local tests only), its unix socket in that directory.
 * Never the machine's own server. `initdb` and `pg_ctl` refuse to run as root, so as root they
 * run as the `postgres` system user.
 */
export class PrivatePostgres {
  private running = false;
  private databases = 0;

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly durable: boolean,
  ) {}

  /** `durable`: fsync as a production server does (a bench); tests skip it (a crash of the machine loses the cluster). */
  static async start(options: { durable?: boolean } = {}): Promise<PrivatePostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'agov-postgres-'));
    const server = new PrivatePostgres(await freePort(), dir, Boolean(options.durable));
    try {
      if (isRoot()) chownSync(dir, postgresUser().uid, postgresUser().gid);
      server.run('initdb', [
        '-D',
        server.dataDir,
        '-U',
        'postgres',
        '--auth=trust',
        '--no-sync',
        '-E',
        'UTF8',
      ]);
      await server.restart();
      return server;
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** The default database, as the superuser (tests use it to tamper, as an attacker with the host would). */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** A new, empty database on this server (`createdb`): one per test keeps tests apart. */
  async createDatabase(): Promise<string> {
    const name = `agov_test_${++this.databases}`;
    execFileSync(
      postgresBinary('createdb'),
      ['-h', '127.0.0.1', '-p', String(this.port), '-U', 'postgres', name],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        timeout: 30_000,
      },
    );
    return `postgres://postgres@127.0.0.1:${this.port}/${name}`;
  }

  /** Starts (again) on the same port, with the data from before. */
  async restart(): Promise<void> {
    if (this.running) throw new Error('postgres is already running');
    const options = `-c listen_addresses=127.0.0.1 -p ${this.port} -k ${this.dir} -c fsync=${this.durable ? 'on' : 'off'}`;
    this.run('pg_ctl', [
      '-D',
      this.dataDir,
      '-l',
      join(this.dir, 'server.log'),
      '-w',
      '-o',
      options,
      'start',
    ]);
    this.running = true;
  }

  /** Stops at once, as a crash would (`-m immediate`): the data stays for a restart. */
  async crash(): Promise<void> {
    if (this.running) this.run('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop']);
    this.running = false;
  }

  async stop(): Promise<void> {
    if (this.running) this.run('pg_ctl', ['-D', this.dataDir, '-m', 'fast', '-w', 'stop']);
    this.running = false;
    rmSync(this.dir, { recursive: true, force: true });
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** Runs a server tool, as the `postgres` user when this process is root (both refuse root). */
  private run(tool: 'initdb' | 'pg_ctl', args: string[]): void {
    const binary = postgresBinary(tool);
    const [command, argv] = isRoot()
      ? [runuserPath(), ['-u', 'postgres', '--', binary, ...args]]
      : [binary, args];
    execFileSync(command, argv, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
  }
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** util-linux's runuser lives in an sbin directory, which a PATH may leave out. */
function runuserPath(): string {
  return ['/usr/sbin/runuser', '/sbin/runuser'].find((path) => existsSync(path)) ?? 'runuser';
}

function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * `initdb` or `pg_ctl` on the PATH, or in Debian's /usr/lib/postgresql/<version>/bin (newest
 * first); `createdb` from the same installation as `initdb`.
 */
export function postgresBinary(tool: 'initdb' | 'pg_ctl' | 'createdb'): string {
  if (tool === 'createdb') return join(dirname(realpathSync(postgresBinary('initdb'))), tool);
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, tool))) return join(dir, tool);
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  for (const version of versions) {
    const path = join(root, version, 'bin', tool);
    if (existsSync(path)) return path;
  }
  throw new Error(`${tool} not found: install Debian's postgresql package (.ci/run does)`);
}
