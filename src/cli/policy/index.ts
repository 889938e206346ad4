import type { Command } from 'commander';
import { registerPolicyBacktest } from './backtest.js';
import { registerPolicyCheck } from './check.js';
import { registerPolicyValidate } from './validate.js';

/** `agov policy …`: try a governance policy before committing it. */
export function registerPolicyCommands(program: Command): void {
  const policy = program.command('policy').description('try a governance policy before committing it');
  registerPolicyValidate(policy);
  registerPolicyCheck(policy);
  registerPolicyBacktest(policy);
}
