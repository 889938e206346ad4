import picomatch from 'picomatch';

/** Compiled matchers by their patterns: a policy's few pattern lists are compiled once, not per PR. */
const compiled = new Map<string, (path: string) => boolean>();
const MAX_COMPILED = 500;

/**
 * Whether a path matches any of `patterns` (dot files included); no pattern matches nothing.
 * The same list gives the same matcher, compiled once.
 */
export function globMatcher(patterns: readonly string[]): (path: string) => boolean {
  const key = JSON.stringify(patterns);
  let matcher = compiled.get(key);
  if (!matcher) {
    matcher = picomatch(patterns.length ? [...patterns] : ['\0'], { dot: true });
    if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
    compiled.set(key, matcher);
  }
  return matcher;
}
