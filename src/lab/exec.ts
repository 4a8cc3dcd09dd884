// Running commands for the lab: the injected command runner (execFile with a timeout) and
// the detached spawner for long-lived daemons. Must not know what the commands mean.
// No RFC: process plumbing only.

import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  cwd?: string;
}

/** Runs a command to completion; never throws for a non-zero exit (see `code`). */
export type Runner = (cmd: string, args: string[], opts?: RunOptions) => Promise<RunResult>;

/** Starts a long-lived process detached from the caller; returns its pid. */
export type Spawner = (
  cmd: string,
  args: string[],
  opts: { logPath: string; cwd?: string },
) => number;

export const realRunner: Runner = (cmd, args, opts = {}) =>
  new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024, cwd: opts.cwd },
      (err, stdout, stderr) => {
        const code =
          err === null ? 0 : typeof err.code === 'number' ? err.code : err.killed ? 124 : 127;
        const why = err?.killed ? `timed out after ${opts.timeoutMs ?? 30_000} ms` : err?.message;
        resolve({ code, stdout: String(stdout), stderr: String(stderr || (why ?? '')) });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });

export const realSpawner: Spawner = (cmd, args, opts) => {
  const fd = openSync(opts.logPath, 'a');
  try {
    const child = spawn(cmd, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      cwd: opts.cwd,
    });
    if (child.pid === undefined) throw new Error(`cannot start ${cmd}`);
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
};

/** Runs a command and throws with its stderr when it fails. */
export async function runOk(
  run: Runner,
  cmd: string,
  args: string[],
  opts?: RunOptions,
): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    const what = [cmd, ...args].join(' ');
    throw new Error(`${what} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  }
  return r.stdout;
}

/** Runs `fn` over `items` with at most `limit` at a time, keeping the order of results. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
