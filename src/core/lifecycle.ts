/**
 * Agent statuses, pipeline stages and the integration event enum with its phase map. GitHub and
 * Slack subscribe to these events; nothing invents its own event strings.
 */
export const AGENT_STATUSES = ['active', 'suspended', 'revoked'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

/** Stages a policy pipeline is made of; also the phases an agent's work passes through. */
export const STAGE_TYPES = ['plan', 'execute', 'verify', 'gate', 'promote'] as const;
export type StageType = (typeof STAGE_TYPES)[number];

/** Where an agent is in its work: idle, or inside one of the stages. */
export const AGENT_PHASES = ['idle', ...STAGE_TYPES] as const;
export type AgentPhase = (typeof AGENT_PHASES)[number];

export const INTEGRATION_EVENTS = [
  'plan_created',
  'execution_started',
  'execution_complete',
  'violation_detected',
  'promotion_requested',
  'promotion_approved',
  'agent_revoked',
  'approval_required',
  'heartbeat',
] as const;
export type IntegrationEvent = (typeof INTEGRATION_EVENTS)[number];

/** The lifecycle phase or gate each integration event belongs to. */
export const EVENT_PHASE: Readonly<Record<IntegrationEvent, StageType>> = {
  plan_created: 'plan',
  execution_started: 'execute',
  heartbeat: 'execute',
  execution_complete: 'verify',
  violation_detected: 'gate',
  approval_required: 'gate',
  agent_revoked: 'gate',
  promotion_requested: 'promote',
  promotion_approved: 'promote',
};
