import type { InvariantResult } from './invariants/invariant.js';

export const CHAOS_FAULTS = ['redis', 'github', 'slack', 'vault', 'service'] as const;
export type ChaosFault = (typeof CHAOS_FAULTS)[number];

export interface ChaosOptions {
  agents: number;
  durationMs: number;
  seed: number;
  faults: ChaosFault[];
  /** A deliberately broken build, to show the run catches it: lock releases ignore fencing. */
  defect?: 'no-fencing';
  print?: (line: string) => void;
}

export interface ChaosReport {
  ok: boolean;
  invariants: InvariantResult[];
  stats: Record<string, number>;
}
