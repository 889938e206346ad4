import { existsSync, readFileSync } from 'node:fs';
import { configWarnings, EMPTY_ORG_CONFIG, type OrgConfig, orgConfigSchema } from '../core/org-config.js';
import { formatProblem, parseYamlWithSchema } from '../core/parse-yaml.js';
import { UserError } from '../platform/errors.js';

export const DEFAULT_ORG_CONFIG_PATH = './agent-governance.yml';

export interface LoadedOrgConfig {
  config: OrgConfig;
  /** The file it came from, or null when none exists and the built-in defaults apply. */
  path: string | null;
  /** What parses but would not do what its author meant (an agent named as an approver). */
  warnings: string[];
}

/**
 * Loads `GOVERNANCE_CONFIG` (or `./agent-governance.yml` when present). An explicitly named file
 * must exist; an invalid file is an error naming the file, line and column of every problem.
 */
export function loadOrgConfig(explicitPath: string | undefined): LoadedOrgConfig {
  const path = explicitPath ?? (existsSync(DEFAULT_ORG_CONFIG_PATH) ? DEFAULT_ORG_CONFIG_PATH : null);
  if (!path) return { config: EMPTY_ORG_CONFIG, path: null, warnings: [] };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UserError(
      'org_config_unreadable',
      `cannot read the organisation config ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  const result = parseYamlWithSchema(text, orgConfigSchema, path);
  if (!result.ok) {
    // Every problem, one `file:line:column: problem` line each: fixed in one pass, not one a restart.
    const lines = result.problems.map(formatProblem);
    throw new UserError(
      'org_config_invalid',
      lines.length === 1
        ? `invalid organisation config: ${lines[0]}`
        : `invalid organisation config (${lines.length} problems):\n${lines.join('\n')}`,
    );
  }
  return { config: result.value, path, warnings: configWarnings(result.value).map((w) => `${path}: ${w}`) };
}
