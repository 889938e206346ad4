import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadOrgConfig } from '../config/load-org-config.js';
import type { Env } from '../config/read-env.js';
import type { OrgConfig } from '../core/org-config.js';
import { Governance } from '../governance/governance.js';
import type { AsyncLedger } from '../ledger/async-ledger.js';
import { Checkpoints } from '../ledger/checkpoints.js';
import { type Ledger, openLedger, openLedgerSnapshot } from '../ledger/ledger.js';
import { SafetyJournal } from '../ledger/safety-journal.js';
import { loadSigningKey, type SigningKey } from '../ledger/signing-key.js';
import { SqliteAsyncLedger } from '../ledger/sqlite-async-ledger.js';
import { StoreCheckpoints } from '../ledger/store-checkpoints.js';
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
   * copy`, `--read-only`); null on PostgreSQL. Everything else goes through `store`.
   */
  ledger: Ledger | null;
  /** The same ledger, asynchronous (the interface both engines offer). */
  store: AsyncLedger;
  state: StateStore;
  checkpoints: Checkpoints;
  governance: Governance;
  config: OrgConfig;
  configPath: string | null;
  /** What the organisation config says that would not do what its author meant. */
  configWarnings: string[];
  signingKey: SigningKey;
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
   * A private in-memory copy of the ledger, an in-process state store and no safety journal: for a
   * service started read-only to investigate; nothing it does reaches the file, Redis or the journal.
   */
  snapshot?: boolean;
  /** The clock everything reads "now" from (the system clock by default; tests pass a `ManualClock`). */
  clock?: Clock;
  /** The name this process claims shared work under (see `GovernanceDeps.claimer`). */
  claimer?: string;
}

/** The runtime's SQLite ledger; refused, naming the engine, on PostgreSQL. */
export function sqliteOf(runtime: Pick<Runtime, 'ledger'>): Ledger {
  if (!runtime.ledger)
    throw new UserError(
      'sqlite_only',
      'this reads a SQLite ledger file (LEDGER_PATH); the ledger here is PostgreSQL (DATABASE_URL)',
    );
  return runtime.ledger;
}

/** Opens the ledger, the state store and the organisation config named by the environment. */
export async function openRuntime(env: Env, options: OpenRuntimeOptions = {}): Promise<Runtime> {
  const { config, path: configPath, warnings: configWarnings } = loadOrgConfig(env.GOVERNANCE_CONFIG);
  if (options.ledgerMustExist && env.LEDGER_PATH !== ':memory:' && !existsSync(env.LEDGER_PATH)) {
    throw new UserError(
      'ledger_missing',
      `no ledger at ${env.LEDGER_PATH}; pass --ledger PATH or set LEDGER_PATH`,
    );
  }
  const snapshot = Boolean(options.snapshot);
  // Entries are stamped with the same clock everything else reads.
  const clock = options.clock ?? systemClock;
  const ledger = snapshot
    ? openLedgerSnapshot(env.LEDGER_PATH, () => clock.now())
    : openLedger(env.LEDGER_PATH, { mustExist: Boolean(options.ledgerMustExist) }, () => clock.now());
  try {
    const keyPath = env.LEDGER_SIGNING_KEY_PATH ?? join(dirname(env.LEDGER_PATH), 'ledger-signing-key.pem');
    // A snapshot never writes a key file: without one it signs nothing anyway (no checkpoints).
    const signingKey = loadSigningKey({
      pem: env.LEDGER_SIGNING_KEY ?? (snapshot && !existsSync(keyPath) ? ephemeralKeyPem() : undefined),
      path: keyPath,
    });
    const state =
      snapshot || options.stateStore === 'memory'
        ? new MemoryStateStore(() => clock.ms())
        : await createStateStore(env.REDIS_URL);
    const checkpoints = new Checkpoints(ledger, signingKey);
    const journal = snapshot ? null : SafetyJournal.besideLedger(env.LEDGER_PATH);
    const store = new SqliteAsyncLedger(ledger, () => clock.now());
    const governance = new Governance({
      store,
      state,
      checkpoints: new StoreCheckpoints(store, signingKey, () => clock.now()),
      ...(options.claimer ? { claimer: options.claimer } : {}),
      config,
      journal,
      clock,
    });
    return {
      env,
      engine: 'sqlite',
      ledger,
      store,
      state,
      checkpoints,
      governance,
      config,
      configPath,
      configWarnings,
      signingKey,
      async close() {
        await state.close();
        ledger.close();
      },
    };
  } catch (error) {
    ledger.close();
    throw error;
  }
}

function ephemeralKeyPem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}
