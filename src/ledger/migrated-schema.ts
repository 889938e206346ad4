import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';

/**
 * Reads the schema this build's migrations create, from a scratch in-memory database migrated for
 * the purpose: what verify expects comes from this build's code, never from the file being
 * verified, whose schema the attacker may have changed too. Callers keep what they read.
 */
export function readMigratedSchema<T>(read: (scratch: Database.Database) => T): T {
  const scratch = new Database(':memory:');
  try {
    for (const m of MIGRATIONS) scratch.exec(m.sql);
    return read(scratch);
  } finally {
    scratch.close();
  }
}
