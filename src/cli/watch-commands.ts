import type { Command } from 'commander';
import { describeSuggestion } from '../core/suggestions.js';
import { Watcher } from '../watchers/watcher.js';
import { withRuntime } from './context.js';

export function registerWatchCommands(program: Command): void {
  program
    .command('suggest')
    .description(
      'what the record suggests: promotions, demotions, rules to relax or that never fire, approver bottlenecks',
    )
    .action(async (_opts: unknown, command: Command) => {
      await withRuntime(command, { ledgerMustExist: true, stateStore: 'memory' }, async (rt) => {
        const list = await new Watcher(rt.governance).suggestions();
        if (list.length === 0) return console.log('no suggestions');
        for (const s of list) console.log(`- ${describeSuggestion(s)}`);
        const promote = list.find((s) => s.kind === 'promote');
        if (promote && promote.kind === 'promote')
          console.log(`\nto ask: agov agents promote ${promote.agentId}`);
      });
    });

  program
    .command('watch')
    .description('run the bug watcher once: record new findings and resolve cleared ones')
    .action(async (_opts: unknown, command: Command) => {
      await withRuntime(command, { ledgerMustExist: true, stateStore: 'memory' }, (rt) => {
        const watcher = new Watcher(rt.governance);
        const raised = watcher.run();
        for (const f of raised) console.log(`new: ${f.summary}`);
        console.log(`${watcher.openFindings().length} finding(s) open`);
      });
    });
}
