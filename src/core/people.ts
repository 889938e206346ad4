/**
 * People: one human, one identity across GitHub and Slack. Every "not the same person" rule
 * (requester vs approver, owner vs approver, two votes through two channels) compares the key this
 * module gives, never a Slack user id with a GitHub login. An agent is never a person.
 */

export interface Person {
  /** GitHub login, the person's key (compared case-insensitively, as GitHub does). */
  github: string;
  slack?: string | undefined;
  teams: readonly string[];
}

export interface Directory {
  people: readonly Person[];
  /** Every GitHub login and id that belongs to a registered agent (lower case). */
  agentIdentities: ReadonlySet<string>;
}

/** The key a GitHub login compares by. */
export const loginKey = (login: string): string => login.toLowerCase();

/** Builds a directory from people entries (later entries add a Slack user or teams to earlier ones). */
export function directoryOf(
  entries: readonly { github: string; slack?: string | undefined; teams?: readonly string[] }[],
  agentIdentities: Iterable<string>,
): Directory {
  const byLogin = new Map<string, Person>();
  for (const e of entries) {
    const key = loginKey(e.github);
    const seen = byLogin.get(key);
    byLogin.set(key, {
      github: seen?.github ?? e.github,
      slack: seen?.slack ?? e.slack,
      teams: [...new Set([...(seen?.teams ?? []), ...(e.teams ?? [])])],
    });
  }
  return {
    people: [...byLogin.values()],
    agentIdentities: new Set([...agentIdentities].map(loginKey)),
  };
}

/**
 * Whether a login or id belongs to an agent: any registered agent's login or id, and any GitHub
 * App or bot account (`…[bot]`), which is never a person.
 */
export function isAgentIdentity(directory: Directory, login: string): boolean {
  const key = loginKey(login);
  return key.endsWith('[bot]') || directory.agentIdentities.has(key);
}

export function personByLogin(directory: Directory, login: string): Person | null {
  const key = loginKey(login);
  return directory.people.find((p) => loginKey(p.github) === key) ?? null;
}

export function personBySlack(directory: Directory, slackUser: string): Person | null {
  return directory.people.find((p) => p.slack === slackUser) ?? null;
}

/**
 * The person behind an actor as the ledger writes it: a GitHub login, `slack:U…` for a Slack user,
 * or `cli:NAME`. A Slack user maps to their GitHub login when the directory knows them; otherwise
 * the actor stays itself, so two different unmapped actors never compare equal by accident.
 */
export function personKeyOfActor(directory: Directory, actor: string): string {
  if (actor.startsWith('slack:')) {
    const person = personBySlack(directory, actor.slice('slack:'.length));
    return person ? loginKey(person.github) : actor;
  }
  if (/^[UW][A-Z0-9]+$/.test(actor)) {
    const person = personBySlack(directory, actor);
    if (person) return loginKey(person.github);
  }
  return loginKey(actor);
}
