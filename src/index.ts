export { AgentApiError, AgentClient } from './client/index.js';
export * from './core/index.js';
export * from './core/policy/index.js';
