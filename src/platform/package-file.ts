import { fileURLToPath } from 'node:url';

/**
 * A file shipped at the package's root (`app.yml`, `manifest.json`: see `files` in package.json),
 * found from this module whether it runs from `dist/src/platform` (built) or `src/platform`.
 */
export function packageFile(name: string): string {
  const up = import.meta.url.includes('/dist/') ? '../../../' : '../../';
  return fileURLToPath(new URL(`${up}${name}`, import.meta.url));
}
