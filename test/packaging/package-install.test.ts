/**
 * The Dockerfile's steps, performed without Docker (no daemon runs on these machines): pack what
 * package.json `files` ships, install the pack with production dependencies only (pinned by the
 * lockfile, scripts off so the package's own `prepare` cannot need TypeScript), then `agov serve`
 * from a tree that cannot be written, with only the data directory writable, as the image runs
 * with `--read-only` and a `/data` volume.
 *
 * The install reads the npm registry (through the npm cache `npm ci` has just filled in CI). The
 * one native addon, better-sqlite3, is copied from this checkout's install of the same version for
 * the same Node: that is what `npm rebuild better-sqlite3` produces in the image, and compiling it
 * takes minutes here. `AGOV_PACKAGE_TEST_REBUILD=1` runs the rebuild instead.
 */
import { type ChildProcess, type SpawnOptions, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { tempDir } from '../helpers/agov.js';
import { PrivateRedis } from '../helpers/redis-server.js';

/** `nobody`: the image's `node` user is not on these machines; any unprivileged id proves the point. */
const NOBODY = 65534;
const ROOT = resolve(import.meta.dirname, '../..');
const work = tempDir('agov-pack-');
let child: ChildProcess | undefined;
let redis: PrivateRedis | undefined;

afterAll(async () => {
  child?.kill('SIGKILL');
  await redis?.stop();
  spawnSync('chmod', ['-R', 'u+w', work]);
  rmSync(work, { recursive: true, force: true });
});

function run(command: string, args: string[], cwd: string): string {
  const r = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
  if (r.status !== 0)
    throw new Error(`${command} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Every path under `dir` with its kind, size, mode and mtime: a write anywhere changes it. */
function listing(dir: string, skip: string): string[] {
  const out: string[] = [];
  const walk = (path: string) => {
    const s = lstatSync(path);
    out.push(
      `${path} ${s.isDirectory() ? 'd' : s.isSymbolicLink() ? 'l' : 'f'} ${s.size} ${s.mode.toString(8)} ${s.mtimeMs}`,
    );
    if (s.isDirectory())
      for (const name of readdirSync(path).sort()) if (join(path, name) !== skip) walk(join(path, name));
  };
  walk(dir);
  return out;
}

/** Starts `agov serve` and resolves with its port from the "listening on" log line. */
function serve(args: string[], options: SpawnOptions): Promise<number> {
  return new Promise((resolvePort, reject) => {
    child = spawn(process.execPath, args, { ...options, stdio: 'pipe' });
    let output = '';
    const onData = (d: Buffer) => {
      output += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (m) resolvePort(Number(m[1]));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`agov serve exited (${code}) before listening:\n${output}`)),
    );
  });
}

it('the pack installs with production dependencies only and serves /readyz 200 from a read-only tree, writing only under the data directory', async () => {
  expect(existsSync(join(ROOT, 'dist/src/cli/main.js')), 'run `npm run build` first (npm test does)').toBe(
    true,
  );
  chmodSync(work, 0o755);

  // Build stage: the pack (the build already ran; `prepare` would only run it again).
  const tarball = run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], ROOT)
    .trim()
    .split('\n')
    .pop()!;
  const app = join(work, 'app');
  mkdirSync(app);
  run('tar', ['-xzf', join(work, tarball), '--strip-components=1', '-C', app], work);
  expect(existsSync(join(app, 'dist/src/cli/main.js'))).toBe(true);
  expect(existsSync(join(app, 'app.yml'))).toBe(true);
  expect(existsSync(join(app, 'policies/t4-architect.hcl'))).toBe(true);
  expect(existsSync(join(app, 'src')), 'TypeScript sources are not shipped').toBe(false);
  expect(existsSync(join(app, 'test')), 'tests are not shipped').toBe(false);

  // Install stage: production dependencies only, as the lockfile pins them.
  copyFileSync(join(ROOT, 'package-lock.json'), join(app, 'package-lock.json'));
  run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], app);
  // Whatever the lockfile marks dev-only (TypeScript, vitest, nock, biome… and theirs) is absent.
  const locked = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')).packages as Record<
    string,
    { dev?: boolean }
  >;
  const devOnly = Object.keys(locked).filter((path) => locked[path]!.dev);
  expect(devOnly).toContain('node_modules/typescript');
  expect(devOnly.filter((path) => existsSync(join(app, path)))).toEqual([]);
  const addon = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node';
  if (process.env.AGOV_PACKAGE_TEST_REBUILD === '1') {
    run('npm', ['rebuild', 'better-sqlite3'], app);
  } else {
    const version = (dir: string) =>
      JSON.parse(readFileSync(join(dir, 'node_modules/better-sqlite3/package.json'), 'utf8')).version;
    expect(version(app)).toBe(version(ROOT));
    mkdirSync(join(app, 'node_modules/better-sqlite3/build/Release'), { recursive: true });
    copyFileSync(join(ROOT, addon), join(app, addon));
  }

  // Runtime: the tree read-only, /data the one writable place. As root (which ignores modes) the
  // service runs as `nobody`, for whom the modes hold, and the listing below proves it either way.
  const data = join(work, 'data');
  mkdirSync(data, { mode: 0o700 });
  spawnSync('chmod', ['-R', 'a-w', app]);
  chmodSync(work, 0o555);
  const asNobody = process.getuid?.() === 0;
  if (asNobody) chownSync(data, NOBODY, NOBODY);
  const before = listing(work, data);

  // As compose.yaml runs it: with Redis.
  redis = await PrivateRedis.start();
  const env: Record<string, string | undefined> = {
    REDIS_URL: redis.url,
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    HOME: app,
    TMPDIR: app,
    LEDGER_PATH: join(data, 'ledger.db'),
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
  };
  const port = await serve([join(app, 'dist/src/cli/main.js'), 'serve'], {
    cwd: app,
    env,
    ...(asNobody ? { uid: NOBODY, gid: NOBODY } : {}),
  });

  const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
  const report = (await ready.json()) as { status: string; dependencies: Record<string, { state: string }> };
  expect(ready.status).toBe(200);
  expect(report.status).toBe('ready');
  expect(report.dependencies.ledger!.state).toBe('up');
  expect(report.dependencies.state_store!.state).toBe('up');
  expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);

  const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
  child!.kill('SIGTERM');
  expect(await exited).toBe(0);
  child = undefined;

  expect(readdirSync(data)).toContain('ledger.db');
  expect(listing(work, data)).toEqual(before);
}, 120_000);

it('the Dockerfile and compose.yaml say what the test above performs: production install, non-root, /data, read-only, /readyz', async () => {
  const { parse } = await import('yaml');
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  expect(dockerfile).toContain('npm pack --ignore-scripts');
  expect(dockerfile).toContain('npm ci --omit=dev --ignore-scripts');
  expect(dockerfile).toMatch(/LEDGER_PATH=\/data\/ledger\.db/);
  expect(dockerfile).toMatch(/^VOLUME \["\/data"\]$/m);
  expect(dockerfile).toMatch(/^USER node$/m);
  expect(dockerfile).toMatch(/^HEALTHCHECK .*\n.*\/readyz/m);
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('FROM '));
  expect(runtime, 'the runtime stage builds nothing').not.toMatch(/npm (ci|install)|apt-get/);

  const compose = parse(readFileSync(join(ROOT, 'compose.yaml'), 'utf8'));
  const agov = compose.services.agov;
  expect(agov.read_only).toBe(true);
  expect(agov.volumes).toContain('ledger:/data');
  expect(agov.environment.LEDGER_PATH).toBe('/data/ledger.db');
  expect(agov.environment.REDIS_URL).toBe('redis://redis:6379');
  expect(agov.depends_on.redis.condition).toBe('service_healthy');
  expect(compose.services.redis.image).toMatch(/^redis:/);
  // The ledger is PostgreSQL, healthy before agov starts; replicas are a variable away (README).
  const postgres = compose.services.postgres;
  expect(postgres.image).toMatch(/^postgres:16/);
  expect(postgres.healthcheck.test).toEqual(['CMD', 'pg_isready', '-U', 'agov', '-d', 'agov']);
  expect(postgres.volumes).toContain('postgres:/var/lib/postgresql/data');
  expect(postgres.ports, 'PostgreSQL is reached on the compose network only').toBeUndefined();
  // Compose's own `${…}` interpolation, not the test's.
  expect(agov.environment.DATABASE_URL).toBe(
    `postgres://agov:$\{POSTGRES_PASSWORD:-agov}@postgres:5432/agov`,
  );
  expect(agov.depends_on.postgres.condition).toBe('service_healthy');
  expect(agov.deploy.replicas).toBe(`$\{AGOV_REPLICAS:-1}`);
  expect(Object.keys(compose.volumes)).toEqual(['ledger', 'postgres', 'redis']);
});
