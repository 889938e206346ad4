/**
 * Parses YAML text against a zod schema and turns every problem into a message that names the
 * file, line and column, in words a person understands. Pure: callers read the file.
 */
import { isMap, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';

export interface ConfigProblem {
  file: string;
  line: number;
  column: number;
  message: string;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; problems: ConfigProblem[] };

export function formatProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.message}`;
}

export function parseYamlWithSchema<S extends z.ZodType>(
  text: string,
  schema: S,
  file: string,
): ParseResult<z.output<S>> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { file, line: pos.line, column: pos.col, message: `not valid YAML: ${firstLine(e.message)}` };
      }),
    };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (error) {
    return {
      ok: false,
      problems: [{ file, line: 1, column: 1, message: `refused: ${(error as Error).message}` }],
    };
  }
  const result = schema.safeParse(data);
  if (result.success) return { ok: true, value: result.data };
  return {
    ok: false,
    problems: result.error.issues.map((issue) => {
      const node = nodeAt(doc.contents as Node | null, issue.path as PropertyKey[]);
      const offset = node?.range?.[0] ?? 0;
      const pos = lineCounter.linePos(offset);
      const where = issue.path.length ? `${formatPath(issue.path as PropertyKey[])}: ` : '';
      return { file, line: pos.line, column: pos.col, message: `${where}${humanize(issue)}` };
    }),
  };
}

/** The deepest node that exists along `path`, so a missing key points at its parent. */
function nodeAt(root: Node | null, path: PropertyKey[]): Node | null {
  let node: Node | null = root;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
      if (!pair) return node;
      node = (pair.value as Node | null) ?? (pair.key as Node);
    } else if (isSeq(node) && typeof key === 'number') {
      const item = node.items[key] as Node | undefined;
      if (!item) return node;
      node = item;
    } else {
      return node;
    }
  }
  return node;
}

function formatPath(path: PropertyKey[]): string {
  return path
    .map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`))
    .join('');
}

function humanize(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_type':
      return issue.message.includes('received undefined') ? `is required (${issue.expected})` : issue.message;
    default:
      return issue.message;
  }
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
