import type { Command } from 'commander';
import { registerAgentsAdd } from './add.js';
import { registerAgentsList } from './list.js';
import { registerAgentsMoves } from './move.js';
import { registerAgentsResume } from './resume.js';
import { registerAgentsRevoke } from './revoke.js';
import { registerAgentsRotateToken } from './rotate-token.js';
import { registerAgentsShow } from './show.js';

/** `agov agents …`: register, inspect, promote and revoke agents (in the order help lists them). */
export function registerAgentsCommands(program: Command): void {
  const agents = program.command('agents').description('register, inspect, promote and revoke agents');
  registerAgentsAdd(agents);
  registerAgentsRotateToken(agents);
  registerAgentsList(agents);
  registerAgentsShow(agents);
  registerAgentsMoves(agents);
  registerAgentsResume(agents);
  registerAgentsRevoke(agents);
}
