import { describe, expect, it } from 'vitest';
import {
  adjacentTier,
  checkpointId,
  DEFAULT_CONSEQUENCES,
  DEFAULT_TIER_CAPABILITIES,
  EVENT_PHASE,
  INTEGRATION_EVENTS,
  SEVERITIES,
  STAGE_TYPES,
  severityOf,
  TIER_IDS,
  tierLabel,
  VIOLATION_TYPES,
  VIOLATIONS,
} from '../../src/core/index.js';

describe('core vocabulary', () => {
  it('has 14 distinct violation types, each with a severity and a description', () => {
    expect(new Set(VIOLATION_TYPES).size).toBe(14);
    for (const type of VIOLATION_TYPES) {
      expect(SEVERITIES).toContain(severityOf(type));
      expect(VIOLATIONS[type].description).toMatch(/\.$/);
    }
    expect(Object.keys(VIOLATIONS).sort()).toEqual([...VIOLATION_TYPES].sort());
  });

  it.each([
    ['secret_exposure', 'critical'],
    ['revoked_agent_activity', 'critical'],
    ['policy_config_tampering', 'critical'],
    ['protected_path_modified', 'high'],
    ['diff_size_exceeded', 'medium'],
    ['ci_failure', 'low'],
  ] as const)('%s is %s', (type, severity) => {
    expect(severityOf(type)).toBe(severity);
  });

  it('revokes on critical and charges the budget on medium and low by default', () => {
    expect(DEFAULT_CONSEQUENCES).toEqual({
      critical: 'revoke',
      high: 'suspend',
      medium: 'charge_budget',
      low: 'charge_budget',
    });
  });

  it('maps each of the 9 integration events to a stage', () => {
    expect(INTEGRATION_EVENTS).toHaveLength(9);
    for (const event of INTEGRATION_EVENTS) expect(STAGE_TYPES).toContain(EVENT_PHASE[event]);
  });

  it('grows capabilities with the tier', () => {
    expect(TIER_IDS.map(tierLabel)).toEqual([
      'T0 observer',
      'T1 operator',
      'T2 builder',
      'T3 executor',
      'T4 architect',
    ]);
    for (let i = 1; i < TIER_IDS.length; i++) {
      const lower = DEFAULT_TIER_CAPABILITIES[TIER_IDS[i - 1]!];
      const higher = DEFAULT_TIER_CAPABILITIES[TIER_IDS[i]!];
      expect(higher.maxChangedLines).toBeGreaterThan(lower.maxChangedLines);
      for (const action of lower.actions) expect(higher.actions).toContain(action);
    }
    expect(DEFAULT_TIER_CAPABILITIES.T0.actions).toEqual(['read']);
    expect(adjacentTier('T4', 1)).toBeNull();
    expect(adjacentTier('T0', 1)).toBe('T1');
  });

  it('formats checkpoint ids as ckpt-YYYYMMDD-HHMMSS-xxxxxxxx', () => {
    expect(checkpointId(new Date('2026-11-24T07:05:09.123Z'), '0a1b2c3d')).toBe(
      'ckpt-20261124-070509-0a1b2c3d',
    );
    expect(() => checkpointId(new Date(), 'XYZ')).toThrow();
  });
});
