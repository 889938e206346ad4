import type { AgentRecord } from '../core/agent.js';

/** A refusal the API answers with its status and a stable code. */
export class ApiRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The one refusal of an agent that is not active, whichever check caught it. */
export function notActive(
  agentId: string,
  status: string | undefined,
  reason: string | undefined,
): ApiRefusal {
  return new ApiRefusal(
    403,
    'agent_not_active',
    `agent ${agentId} is ${status ?? 'unknown'}: ${reason ?? 'ask an admin to resume it'}`,
  );
}

/** A stale token, or another agent's: the same answer, so a caller learns nothing of others' grants. */
export function notHeld(agent: AgentRecord, key: string, token: number): ApiRefusal {
  return new ApiRefusal(
    409,
    'stale_lock',
    `${agent.id} holds no lock ${key} with fencing token ${token}; acquire the lock again`,
  );
}
