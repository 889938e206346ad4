import type { OrgConfig } from '../org-config.js';

/**
 * Problems in a config that parses but would not do what its author meant: an approver or council
 * member who is an agent (an agent never approves; it is refused everywhere), one GitHub login or
 * Slack user given to two people.
 */
export function configWarnings(config: OrgConfig): string[] {
  const warnings: string[] = [];
  const agentLogins = new Map<string, string>();
  for (const a of config.agents) {
    agentLogins.set(a.id.toLowerCase(), a.id);
    for (const login of a.github_logins) agentLogins.set(login.toLowerCase(), a.id);
  }
  const isAgent = (login: string) =>
    agentLogins.get(login.toLowerCase()) ?? (login.toLowerCase().endsWith('[bot]') ? login : null);
  for (const [i, a] of config.approvers.entries()) {
    const agent = isAgent(a.github);
    if (agent)
      warnings.push(
        `approvers[${i}]: ${a.github} belongs to agent ${agent}; an agent never approves, so it is refused everywhere`,
      );
  }
  for (const login of config.council?.members ?? []) {
    const agent = isAgent(login);
    if (agent) warnings.push(`council.members: ${login} belongs to agent ${agent}; an agent never approves`);
  }
  const slackUsers = new Map<string, string>();
  for (const p of [...config.approvers, ...config.people]) {
    if (!p.slack) continue;
    const other = slackUsers.get(p.slack);
    if (other && other.toLowerCase() !== p.github.toLowerCase())
      warnings.push(`Slack user ${p.slack} is given to both ${other} and ${p.github}; it counts as ${other}`);
    else slackUsers.set(p.slack, p.github);
  }
  return warnings;
}
