// Where the podbgp program is: the repository root found from this module's own location,
// and the argv that runs the CLI (built dist, else the TypeScript source through tsx).
// Must not depend on the current directory or on PATH. No RFC.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type CliRunner = 'auto' | 'dist' | 'tsx';

/** The directory holding podbgp's package.json, searched upward from this file. */
export function repoRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'podbgp') {
          return dir;
        }
      } catch {
        // not ours; keep looking
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find podbgp's package.json above ${from}`);
    dir = up;
  }
}

export interface CliCommand {
  /** Program and leading arguments; append the podbgp subcommand and its options. */
  argv: string[];
  cwd: string;
  runner: 'dist' | 'tsx';
}

/**
 * The command line that runs the podbgp CLI: `node ROOT/dist/src/cli/main.js` when it was
 * built (or `runner` is `dist`), else `node --import tsx ROOT/src/cli/main.ts`.
 */
export function cliCommand(runner: CliRunner = 'auto', root: string = repoRoot()): CliCommand {
  const dist = join(root, 'dist', 'src', 'cli', 'main.js');
  if (runner === 'dist' || (runner === 'auto' && existsSync(dist))) {
    if (!existsSync(dist)) throw new Error(`${dist} is missing: run npm run build`);
    return { argv: [process.execPath, dist], cwd: root, runner: 'dist' };
  }
  const src = join(root, 'src', 'cli', 'main.ts');
  if (!existsSync(src)) throw new Error(`neither ${dist} nor ${src} exists`);
  return { argv: [process.execPath, '--import', 'tsx', src], cwd: root, runner: 'tsx' };
}
