import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Files that run long mostly waiting on real time (the chaos runs, spawned services, `npm ci`):
 * started first, the other worker runs the short files beside them. Without this, a fresh clone
 * (no timing cache yet) starts the largest files first and these small ones last.
 */
const LONG_RUNNING = [
  'test/chaos/chaos.test.ts',
  'test/chaos/chaos-replicas.test.ts',
  'test/app/replicas-sigkill.test.ts',
  'test/cli/ledger-verify.test.ts',
  'test/app/replicas.test.ts',
  'test/packaging/package-install.test.ts',
];

class LongRunningFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = LONG_RUNNING.findIndex((path) => f.moduleId.endsWith(path));
      return i === -1 ? LONG_RUNNING.length : i;
    };
    // A stable sort: the rest keep the order Vitest gave them.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: one file at a time on a 2-core machine,
    // while most files spend their time waiting on servers, processes and real time.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // A worker keeps the modules it loaded from one file to the next: loading the service's
    // dependencies (Probot, Bolt, pino…) anew for each of the 108 files cost more than running
    // most of them. Test files share no state through modules: each makes its own runtime,
    // servers and stand-ins, undoes what it sets globally (nock, umask), and passes alone.
    isolate: false,
    sequence: { sequencer: LongRunningFirst },
  },
});
