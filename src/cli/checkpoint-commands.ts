import type { Command } from 'commander';
import { withRuntime } from './context.js';
import { table } from './output.js';

export function registerCheckpointCommands(program: Command): void {
  const checkpoint = program
    .command('checkpoint')
    .description('snapshots of the derived state plus the signed ledger head');

  checkpoint
    .command('create')
    .description('fold the ledger into a new checkpoint and sign its head')
    .action(async (_opts: unknown, command: Command) => {
      await withRuntime(command, { stateStore: 'memory' }, async (rt) => {
        const c = await rt.governance.checkpoints.create();
        console.log(`${c.checkpointId}  head ${c.headSeq} ${c.headHash}`);
      });
    });

  checkpoint
    .command('list')
    .description('checkpoints, newest first')
    .action(async (_opts: unknown, command: Command) => {
      await withRuntime(command, { ledgerMustExist: true, stateStore: 'memory' }, async (rt) => {
        const rows = (await rt.governance.checkpoints.list()).map((c) => [
          c.checkpointId,
          c.createdAt,
          String(c.headSeq),
          c.headHash.slice(0, 16),
        ]);
        console.log(
          rows.length ? table(['id', 'created', 'head seq', 'head hash'], rows) : 'no checkpoints yet',
        );
      });
    });

  checkpoint
    .command('show <id>')
    .description('one checkpoint with its state')
    .action(async (id: string, _opts: unknown, command: Command) => {
      await withRuntime(command, { ledgerMustExist: true, stateStore: 'memory' }, async (rt) => {
        console.log(JSON.stringify(await rt.governance.checkpoints.get(id), null, 2));
      });
    });

  checkpoint
    .command('restore')
    .description('rebuild the state store (REDIS_URL) from the newest checkpoint plus the ledger after it')
    .action(async (_opts: unknown, command: Command) => {
      await withRuntime(command, { ledgerMustExist: true, stateStore: 'env' }, async (rt) => {
        const result = await rt.governance.restoreState();
        const from = result.checkpointId ? `checkpoint ${result.checkpointId}` : 'the start of the ledger';
        console.log(`restored the ${rt.state.kind} state store from ${from} up to entry ${result.headSeq}`);
      });
    });
}
