import { describe, expect, it } from 'vitest';
import { orgConfigSchema } from '../../src/core/org-config.js';
import { violationConsequences } from '../../src/core/violation-consequences.js';

const config = orgConfigSchema.parse({ budgets: { limit: 10 } });
const active = { status: 'active' as const, tier: 'T2' as const, used: 0 };
const shape = (entries: ReturnType<typeof violationConsequences>) =>
  entries.map((e) => [e.type, (e.payload as any).violation ?? (e.payload as any).to]);

describe('what violations do to an agent', () => {
  it('a critical violation revokes; a second one in the same call changes nothing more', () => {
    const entries = violationConsequences(
      config,
      'bot',
      active,
      [
        { type: 'secret_exposure', details: 'a key' },
        { type: 'secret_exposure', details: 'another key' },
      ],
      'scan:1',
      'scanner',
    );
    expect(shape(entries)).toEqual([
      ['violation.recorded', 'secret_exposure'],
      ['agent.status_changed', 'revoked'],
      ['violation.recorded', 'secret_exposure'],
    ]);
  });

  it('the charge that exhausts the budget records error_budget_exhausted and suspends, once', () => {
    const standing = { ...active, used: 8 };
    const entries = violationConsequences(
      config,
      'bot',
      standing,
      [
        { type: 'ci_failure', details: 'red' },
        { type: 'ci_failure', details: 'red again' },
        { type: 'ci_failure', details: 'and again' },
      ],
      'ci:1',
      'github',
    );
    expect(shape(entries)).toContainEqual(['violation.recorded', 'error_budget_exhausted']);
    expect(shape(entries).filter(([t]) => t === 'agent.status_changed')).toEqual([
      ['agent.status_changed', 'suspended'],
    ]);
  });

  it('a revoked agent is never moved back to suspended by a later violation', () => {
    const entries = violationConsequences(
      config,
      'bot',
      { ...active, status: 'revoked' },
      [{ type: 'lock_violation', details: 'wrote without the lock' }],
      'lock:1',
      'service',
    );
    expect(shape(entries)).toEqual([['violation.recorded', 'lock_violation']]);
  });
});
