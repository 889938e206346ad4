/** What an agent may ask to do in a preflight. Tiers grant subsets of these. */
export const AGENT_ACTIONS = [
  'read',
  'open_pr',
  'push',
  'run_pipeline',
  'read_secret',
  'deploy',
  'modify_policy',
] as const;
export type AgentAction = (typeof AGENT_ACTIONS)[number];
