/**
 * The entry payload schemas are written by domain and merged into one table: a type defined in two
 * domains would silently keep only the later shape.
 */
import { expect, it } from 'vitest';
import { agentApiPayloadSchemas } from '../../src/core/entry-payloads/agent-api.js';
import { agentPayloadSchemas } from '../../src/core/entry-payloads/agents.js';
import { operationsPayloadSchemas } from '../../src/core/entry-payloads/operations.js';
import { pullRequestPayloadSchemas } from '../../src/core/entry-payloads/pull-requests.js';
import { isLedgerEntryType, LEDGER_ENTRY_TYPES } from '../../src/core/ledger-entries.js';

it('defines each entry type in exactly one domain', () => {
  const domains = [
    agentPayloadSchemas,
    pullRequestPayloadSchemas,
    agentApiPayloadSchemas,
    operationsPayloadSchemas,
  ];
  const defined = domains.flatMap((schemas) => Object.keys(schemas));
  expect(defined.filter((type, i) => defined.indexOf(type) !== i)).toEqual([]);
  expect([...defined].sort()).toEqual([...LEDGER_ENTRY_TYPES].sort());
});

it('knows the entry types, and nothing an object inherits', () => {
  expect(LEDGER_ENTRY_TYPES.every(isLedgerEntryType)).toBe(true);
  expect(['constructor', 'toString', '__proto__', 'agent.made_up'].some(isLedgerEntryType)).toBe(false);
});
