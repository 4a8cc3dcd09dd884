// Where the podbgp program is: the repository root found from this module's own location,
// and the argv that runs the CLI (built dist, else the TypeScript source through tsx).
// Must not depend on the current directory or on PATH. No RFC.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
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

/** The newest modification time (ms) of the .ts files under `dirs` (0 when none). */
export function newestSource(dirs: string[]): number {
  let newest = 0;
  const walk = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const d of dirs) walk(d);
  return newest;
}

/** Whether dist/ holds a build at least as new as every source file. */
export function distIsFresh(root: string = repoRoot()): boolean {
  const dist = join(root, 'dist', 'src', 'cli', 'main.js');
  if (!existsSync(dist)) return false;
  const built = statSync(dist).mtimeMs;
  return newestSource([join(root, 'src'), join(root, 'protocol')]) <= built;
}

/**
 * The command line that runs the podbgp CLI: `node ROOT/dist/src/cli/main.js` when `runner`
 * is `dist`, or `auto` and the build is up to date with the sources; otherwise
 * `node --import tsx ROOT/src/cli/main.ts` (slower to start, always the current source).
 */
export function cliCommand(runner: CliRunner = 'auto', root: string = repoRoot()): CliCommand {
  const dist = join(root, 'dist', 'src', 'cli', 'main.js');
  if (runner === 'dist' || (runner === 'auto' && distIsFresh(root))) {
    if (!existsSync(dist)) throw new Error(`${dist} is missing: run npm run build`);
    return { argv: [process.execPath, dist], cwd: root, runner: 'dist' };
  }
  const src = join(root, 'src', 'cli', 'main.ts');
  if (!existsSync(src)) throw new Error(`neither ${dist} nor ${src} exists`);
  return { argv: [process.execPath, '--import', 'tsx', src], cwd: root, runner: 'tsx' };
}
