import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadOrgConfig } from '../config/load-org-config.js';
import type { Env } from '../config/read-env.js';
import type { OrgConfig } from '../core/org-config.js';
import { Governance } from '../governance/governance.js';
import type { AsyncLedger } from '../ledger/async-ledger.js';
import { Checkpoints } from '../ledger/checkpoints.js';
import { type Ledger, openLedger, openLedgerSnapshot } from '../ledger/ledger.js';
import { openPostgresLedger } from '../ledger/postgres/postgres-ledger.js';
import { SafetyJournal } from '../ledger/safety-journal.js';
import { loadSigningKey, type SigningKey } from '../ledger/signing-key.js';
import { SqliteAsyncLedger } from '../ledger/sqlite-async-ledger.js';
import { StoreCheckpoints } from '../ledger/store-checkpoints.js';
import { verifyLedger } from '../ledger/verify.js';
import type { VerifyResult } from '../ledger/verify-verdict.js';
import { type Clock, systemClock } from '../platform/clock.js';
import { UserError } from '../platform/errors.js';
import { createStateStore } from '../state/create-state-store.js';
import { MemoryStateStore } from '../state/memory-state-store.js';
import type { StateStore } from '../state/state-store.js';

export interface Runtime {
  env: Env;
  engine: 'sqlite' | 'postgres';
  /**
   * The synchronous SQLite ledger, for the commands that read the file directly (`agov ledger
   * copy`); null on PostgreSQL. Everything else goes through `store`.
   */
  ledger: Ledger | null;
  /** The same ledger, asynchronous (the interface both engines offer). */
  store: AsyncLedger;
  state: StateStore;
  /** SQLite's synchronous checkpoints (`agov ledger` reads); null on PostgreSQL. Both engines': `governance.checkpoints`. */
  checkpoints: Checkpoints | null;
  governance: Governance;
  config: OrgConfig;
  configPath: string | null;
  /** What the organisation config says that would not do what its author meant. */
  configWarnings: string[];
  signingKey: SigningKey;
  /** Where the ledger is, for people: the file, or the database without its password. */
  where: string;
  /**
   * Which ledger this is, for replicas to compare: the file's path, or the PostgreSQL ledger's own
   * identity (the same by whatever URL it is reached).
   */
  ledgerId: string;
  /** What `agov ledger verify` checks, on this runtime's engine, with this host's key. */
  verify(): Promise<VerifyResult>;
  close(): Promise<void>;
}

export interface OpenRuntimeOptions {
  /** Open an existing ledger only (read commands must not create an empty one by accident). */
  ledgerMustExist?: boolean;
  /**
   * `env`: the store REDIS_URL names (the server, restore). `memory`: a private in-process store,
   * for commands that only read or append the ledger; the server follows the ledger to catch up.
   */
  stateStore?: 'env' | 'memory';
  /**
   * For a service started read-only to investigate: an in-process state store, no safety journal,
   * no key file written, and the ledger as it is: on SQLite a private in-memory copy of the file;
   * on PostgreSQL connections the database keeps read-only, and no migration. Nothing it does
   * reaches the file, the database, Redis or the journal.
   */
  snapshot?: boolean;
  /** The clock everything reads "now" from (the system clock by default; tests pass a `ManualClock`). */
  clock?: Clock;
  /**
   * The name this process claims shared work under (see `GovernanceDeps.claimer`), or how to make
   * it from the ledger's identity (`Runtime.ledgerId`).
   */
  claimer?: string | ((ledgerId: string) => string);
}

/** The runtime's SQLite ledger; refused, naming the engine, on PostgreSQL. */
export function sqliteOf(runtime: Pick<Runtime, 'ledger'>): Ledger {
  return sqliteOnly(runtime.ledger, 'a SQLite ledger file');
}

/** The runtime's SQLite checkpoints; refused, naming the engine, on PostgreSQL. */
export function sqliteCheckpointsOf(runtime: Pick<Runtime, 'checkpoints'>): Checkpoints {
  return sqliteOnly(runtime.checkpoints, 'the checkpoints of a SQLite ledger file');
}

/** What only a SQLite runtime has; refused, saying which engine this one is on, on PostgreSQL. */
function sqliteOnly<T>(part: T | null, what: string): T {
  if (part) return part;
  throw new UserError(
    'sqlite_only',
    `this reads ${what} (LEDGER_PATH); the ledger here is PostgreSQL (DATABASE_URL)`,
  );
}

/**
 * Opens the ledger (PostgreSQL when DATABASE_URL is set, else the SQLite file at LEDGER_PATH), the
 * state store and the organisation config named by the environment.
 */
export async function openRuntime(env: Env, options: OpenRuntimeOptions = {}): Promise<Runtime> {
  const loaded = loadOrgConfig(env.GOVERNANCE_CONFIG);
  // Entries are stamped with the same clock everything else reads.
  const clock = options.clock ?? systemClock;
  const opened = env.DATABASE_URL
    ? await openPostgres(env, env.DATABASE_URL, options, clock)
    : openSqlite(env, options, clock);
  try {
    const state =
      options.snapshot || options.stateStore === 'memory'
        ? new MemoryStateStore(() => clock.ms())
        : await createStateStore(env.REDIS_URL);
    const { store, signingKey } = opened;
    const governance = new Governance({
      store,
      state,
      checkpoints: new StoreCheckpoints(store, signingKey, () => clock.now()),
      ...(options.claimer
        ? {
            claimer:
              typeof options.claimer === 'function' ? options.claimer(opened.ledgerId) : options.claimer,
          }
        : {}),
      config: loaded.config,
      journal: opened.journal,
      clock,
    });
    return {
      env,
      engine: store.engine,
      ledger: opened.ledger,
      store,
      state,
      checkpoints: opened.checkpoints,
      governance,
      config: loaded.config,
      configPath: loaded.path,
      configWarnings: loaded.warnings,
      signingKey,
      verify: opened.verify,
      where: opened.where,
      ledgerId: opened.ledgerId,
      async close() {
        await state.close();
        await store.close();
      },
    };
  } catch (error) {
    await opened.store.close();
    throw error;
  }
}

interface OpenedLedger {
  ledger: Ledger | null;
  store: AsyncLedger;
  checkpoints: Checkpoints | null;
  signingKey: SigningKey;
  journal: SafetyJournal | null;
  verify: Runtime['verify'];
  where: string;
  ledgerId: string;
}

function openSqlite(env: Env, options: OpenRuntimeOptions, clock: Clock): OpenedLedger {
  if (options.ledgerMustExist && env.LEDGER_PATH !== ':memory:' && !existsSync(env.LEDGER_PATH)) {
    throw new UserError(
      'ledger_missing',
      `no ledger at ${env.LEDGER_PATH}; pass --ledger PATH or set LEDGER_PATH`,
    );
  }
  const snapshot = Boolean(options.snapshot);
  const ledger = snapshot
    ? openLedgerSnapshot(env.LEDGER_PATH, () => clock.now())
    : openLedger(env.LEDGER_PATH, { mustExist: Boolean(options.ledgerMustExist) }, () => clock.now());
  try {
    const signingKey = hostSigningKey(env, dirname(env.LEDGER_PATH), snapshot);
    return {
      ledger,
      store: new SqliteAsyncLedger(ledger, () => clock.now()),
      checkpoints: new Checkpoints(ledger, signingKey),
      signingKey,
      journal: snapshot ? null : SafetyJournal.besideLedger(env.LEDGER_PATH),
      verify: async () => verifyLedger(ledger, [], { hostPublicKey: signingKey.publicKey }),
      where: env.LEDGER_PATH,
      ledgerId: env.LEDGER_PATH,
    };
  } catch (error) {
    ledger.close();
    throw error;
  }
}

/**
 * The PostgreSQL ledger DATABASE_URL names, migrated (or, for the commands that only read, one that
 * exists). The signing key and the safety journal stay on this host, where LEDGER_PATH's directory
 * (or LEDGER_SIGNING_KEY_PATH) says: every replica must sign with the key the ledger pinned, so
 * replicas share LEDGER_SIGNING_KEY.
 */
async function openPostgres(
  env: Env,
  url: string,
  options: OpenRuntimeOptions,
  clock: Clock,
): Promise<OpenedLedger> {
  const snapshot = Boolean(options.snapshot);
  const store = await openPostgresLedger(url, () => clock.now(), 10, {
    mustExist: Boolean(options.ledgerMustExist),
    readOnly: snapshot,
  });
  try {
    const dir = dirname(env.LEDGER_PATH);
    if (!snapshot) mkdirSync(dir, { recursive: true, mode: 0o700 });
    const signingKey = hostSigningKey(env, dir, snapshot);
    return {
      ledger: null,
      store,
      checkpoints: null,
      signingKey,
      journal: snapshot ? null : new SafetyJournal(join(dir, 'postgres.safety-journal')),
      verify: () => store.verifyLedger([], { hostPublicKey: signingKey.publicKey }),
      where: store.where,
      ledgerId: `ledger ${await store.identity()}`,
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/**
 * This host's signing key: LEDGER_SIGNING_KEY, else the file at LEDGER_SIGNING_KEY_PATH or in
 * `dir`, made on first use. A snapshot never writes a key file: without one it signs nothing
 * anyway (no checkpoints), so a key made for this run stands in.
 */
function hostSigningKey(env: Env, dir: string, snapshot: boolean): SigningKey {
  const path = env.LEDGER_SIGNING_KEY_PATH ?? join(dir, 'ledger-signing-key.pem');
  return loadSigningKey({
    pem: env.LEDGER_SIGNING_KEY ?? (snapshot && !existsSync(path) ? ephemeralKeyPem() : undefined),
    path,
  });
}

function ephemeralKeyPem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}
