/**
 * Trust tiers T0–T4 and their built-in capabilities. The one source of tier ids and names:
 * every other module imports these instead of spelling the strings again.
 */
import { AGENT_ACTIONS, type AgentAction } from './actions.js';

export const TIER_IDS = ['T0', 'T1', 'T2', 'T3', 'T4'] as const;
export type TierId = (typeof TIER_IDS)[number];

export const TIER_NAMES: Readonly<Record<TierId, string>> = {
  T0: 'observer',
  T1: 'operator',
  T2: 'builder',
  T3: 'executor',
  T4: 'architect',
};

export interface TierCapabilities {
  /** Actions an agent at this tier may ask for in a preflight. */
  actions: readonly AgentAction[];
  /** Globs of the paths the agent may change; anything else is `unauthorized_path`. */
  allowedPaths: readonly string[];
  maxChangedFiles: number;
  maxChangedLines: number;
  /** Whether a PR that fires no rule may pass without a human approval. */
  mayPassWithoutHuman: boolean;
  /** Vault KV v2 paths (with `{id}` for the agent's own id) the tier's policy may read. */
  vaultReadPaths: readonly string[];
}

const OWN_SECRETS = 'secret/data/agents/{id}';

export const DEFAULT_TIER_CAPABILITIES: Readonly<Record<TierId, TierCapabilities>> = {
  T0: {
    actions: ['read'],
    allowedPaths: [],
    maxChangedFiles: 0,
    maxChangedLines: 0,
    mayPassWithoutHuman: false,
    vaultReadPaths: [],
  },
  T1: {
    actions: ['read', 'open_pr'],
    allowedPaths: ['docs/**', '**/*.md', 'test/**', 'tests/**'],
    maxChangedFiles: 10,
    maxChangedLines: 300,
    mayPassWithoutHuman: true,
    vaultReadPaths: [],
  },
  T2: {
    actions: ['read', 'open_pr', 'push', 'run_pipeline'],
    allowedPaths: ['**'],
    maxChangedFiles: 50,
    maxChangedLines: 1500,
    mayPassWithoutHuman: true,
    vaultReadPaths: [OWN_SECRETS],
  },
  T3: {
    actions: ['read', 'open_pr', 'push', 'run_pipeline', 'read_secret', 'deploy'],
    allowedPaths: ['**'],
    maxChangedFiles: 200,
    maxChangedLines: 5000,
    mayPassWithoutHuman: true,
    vaultReadPaths: [OWN_SECRETS, 'secret/data/inventory/*'],
  },
  T4: {
    actions: AGENT_ACTIONS,
    allowedPaths: ['**'],
    maxChangedFiles: 1000,
    maxChangedLines: 20000,
    mayPassWithoutHuman: true,
    vaultReadPaths: [OWN_SECRETS, 'secret/data/inventory/*', 'secret/data/shared/*'],
  },
};

export function isTierId(value: unknown): value is TierId {
  return typeof value === 'string' && (TIER_IDS as readonly string[]).includes(value);
}

/** `T2 builder` — how a tier is shown to people. */
export function tierLabel(tier: TierId): string {
  return `${tier} ${TIER_NAMES[tier]}`;
}

/** The tier one step up or down, or null at either end. */
export function adjacentTier(tier: TierId, step: 1 | -1): TierId | null {
  return TIER_IDS[TIER_IDS.indexOf(tier) + step] ?? null;
}
