import { join } from 'node:path';
import { openRuntime, type Runtime } from '../../src/app/open-runtime.js';
import { readEnv } from '../../src/config/read-env.js';
import { tempDir } from './agov.js';

/** A runtime on a fresh ledger in a temporary directory, in-process state unless `redisUrl` is given. */
export async function testRuntime(
  options: { ledgerPath?: string; redisUrl?: string; config?: string } = {},
): Promise<Runtime> {
  const env = readEnv({
    LEDGER_PATH: options.ledgerPath ?? join(tempDir(), 'ledger.db'),
    REDIS_URL: options.redisUrl,
    GOVERNANCE_CONFIG: options.config,
  });
  return openRuntime(env, { stateStore: options.redisUrl ? 'env' : 'memory' });
}
