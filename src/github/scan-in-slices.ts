import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { ChangedFile } from '../core/policy/pull-request-facts.js';
import {
  type ScanStep,
  type SecretScan,
  secretScanSteps,
  unscannedAnnotation,
} from '../core/policy/scan-secrets.js';
import type { SecretMatcher } from '../core/policy/secret-matcher.js';

export interface SliceOptions {
  /** The longest the scan runs before it gives the event loop back. */
  sliceMs?: number;
  /** The longest the whole scan may take; what is left is reported unscanned (fail closed). */
  budgetMs?: number;
  /** A monotonic clock in milliseconds (injected by tests). */
  now?: () => number;
}

/**
 * Runs the secret scan in slices: no policy, however its patterns are written, holds the event
 * loop for more than one slice (plus one step: one pattern over one window of a line), and a scan
 * that runs out of budget reports the files it did not finish as unscanned, never as clean.
 */
export async function scanInSlices(
  files: readonly ChangedFile[],
  matchers: readonly SecretMatcher[],
  options: SliceOptions = {},
): Promise<SecretScan & { slices: number }> {
  const { sliceMs = 10, budgetMs = 20_000, now = () => performance.now() } = options;
  const started = now();
  let sliceStart = started;
  let slices = 1;
  const steps = secretScanSteps(files, matchers);
  for (;;) {
    const next = steps.next();
    if (next.done) return { ...next.value, slices };
    if (now() - started >= budgetMs) {
      steps.return(undefined as never);
      return { ...outOfTime(files, next.value), slices };
    }
    if (now() - sliceStart >= sliceMs) {
      await yieldToLoop();
      sliceStart = now();
      slices++;
    }
  }
}

/** Out of time: what was found stands; the file being scanned and every later one are unscanned. */
function outOfTime(files: readonly ChangedFile[], step: ScanStep): SecretScan {
  const from = files.indexOf(step.file);
  const already = new Set(step.sofar.unscanned.map((a) => a.path));
  return {
    findings: [...step.sofar.findings],
    unscanned: [
      ...step.sofar.unscanned,
      ...files
        .slice(from)
        .filter((f) => f.status !== 'removed' && !already.has(f.path))
        .map((f) => unscannedAnnotation(f, 'the secret scan ran out of time before it finished this file')),
    ],
  };
}
