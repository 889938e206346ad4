export * from './decision.js';
export * from './evaluate.js';
export * from './load-policy.js';
export * from './policy-schema.js';
export * from './pull-request-facts.js';
export * from './render-check-run.js';
export * from './resolve-policy.js';
export * from './templates.js';
