import { type ParseResult, parseYamlWithSchema } from '../parse-yaml.js';
import { type PolicyFile, policyFileSchema } from './policy-schema.js';

/** Parses the text of a policy file; problems name the file, line and column. */
export function parsePolicyFile(text: string, file: string): ParseResult<PolicyFile> {
  return parseYamlWithSchema(text, policyFileSchema, file);
}
