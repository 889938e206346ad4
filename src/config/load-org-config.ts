import { existsSync, readFileSync } from 'node:fs';
import { configWarnings, EMPTY_ORG_CONFIG, type OrgConfig, orgConfigSchema } from '../core/org-config.js';
import { formatProblem, parseYamlWithSchema } from '../core/parse-yaml.js';
import { UserError } from '../errors.js';

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
 * must exist; an invalid file is an error naming the file, line and column.
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
    const [first, ...rest] = result.problems;
    const more = rest.length ? ` (and ${rest.length} more problem${rest.length > 1 ? 's' : ''})` : '';
    throw new UserError('org_config_invalid', `invalid organisation config: ${formatProblem(first!)}${more}`);
  }
  return { config: result.value, path, warnings: configWarnings(result.value).map((w) => `${path}: ${w}`) };
}
