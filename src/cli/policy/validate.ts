import type { Command } from 'commander';
import { EXIT } from '../output.js';
import { loadPolicyFile } from './policy-file.js';

/** `agov policy validate <file>`: exit 0 when valid, 1 with its problems when not. */
export function registerPolicyValidate(policy: Command): void {
  policy
    .command('validate <file>')
    .description(
      'check a .github/agent-governance.yml: exit 0 when valid, 1 with file:line:column problems when not',
    )
    .option('--org <file>', "the organisation's .github policy: what it enforces may not be loosened")
    .action((file: string, opts: { org?: string }) => {
      const resolved = loadPolicyFile(file, opts.org);
      if (!resolved) {
        process.exitCode = EXIT.checkFailed;
        return;
      }
      const stages = resolved.pipeline.stages.map((s) => `${s.type}(${s.rules.join(', ')})`).join(' → ');
      console.log(`ok: ${file} is valid`);
      console.log(`pipeline: ${stages}`);
      console.log(
        `gates: ${Object.entries(resolved.gates)
          .map(([n, g]) => `${n} (${g.council ? 'council' : `${g.approvals} approval(s)`})`)
          .join(', ')}`,
      );
    });
}
