import type { Command } from 'commander';
import { registerPromotionsList } from './list.js';
import { registerPromotionsVote } from './vote.js';

/** `agov promotions …`: pending promotions, demotions and reinstatements, and their votes. */
export function registerPromotionsCommands(program: Command): void {
  const promotions = program
    .command('promotions')
    .description('pending promotions, demotions and reinstatements, and their votes');
  registerPromotionsList(promotions);
  registerPromotionsVote(promotions, 'approve');
  registerPromotionsVote(promotions, 'reject');
}
