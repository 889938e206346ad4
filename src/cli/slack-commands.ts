import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { packageFile } from '../platform/package-file.js';
import { slackBaseUrl, slackManifest } from '../slack/slack-manifest.js';

export function registerSlackCommands(program: Command): void {
  const slack = program.command('slack').description('the Slack app');

  slack
    .command('manifest')
    .description(
      'print manifest.json with its request and redirect URLs on --url, to paste into Slack\'s "create an app from a manifest"',
    )
    .requiredOption(
      '--url <url>',
      'where Slack reaches this service: https://HOST, with a path prefix if any',
    )
    .action((opts: { url: string }) => {
      const base = slackBaseUrl(opts.url);
      const manifest = JSON.parse(readFileSync(packageFile('manifest.json'), 'utf8'));
      process.stdout.write(`${JSON.stringify(slackManifest(manifest, base), null, 2)}\n`);
    });
}
