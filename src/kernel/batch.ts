// Applies a list of route commands with ONE `ip -force -batch -` and maps iproute2's per-line
// failures ("RTNETLINK answers: ...", then "Command failed -:N") back to the commands.
// Must not decide what to apply; -force keeps one bad line from stopping the rest.

import type { CommandRunner } from './types.js';

export interface BatchOutcome {
  /** Error text per failed line index (0-based), absent for lines that succeeded. */
  failures: Map<number, string>;
  /** Set when the batch as a whole failed (ip missing, killed): no line is known to have run. */
  fatal: string | null;
  exitCode: number;
}

const FAILED = /^Command failed (.*):(\d+)$/;

/** Parses iproute2's batch stderr. Messages precede the "Command failed FILE:LINE" marker. */
export function parseBatchErrors(
  stderr: string,
  lineCount: number,
): { failures: Map<number, string>; stray: string[] } {
  const failures = new Map<number, string>();
  let pending: string[] = [];
  for (const raw of stderr.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const m = FAILED.exec(line);
    if (m === null) {
      pending.push(line.replace(/^Error: /, '').replace(/^RTNETLINK answers: /, ''));
      continue;
    }
    const idx = Number(m[2]) - 1;
    if (idx >= 0 && idx < lineCount) {
      failures.set(idx, pending.length > 0 ? pending.join('; ') : 'command failed');
    }
    pending = [];
  }
  return { failures, stray: pending };
}

export async function runBatch(
  runner: CommandRunner,
  lines: readonly string[],
): Promise<BatchOutcome> {
  if (lines.length === 0) return { failures: new Map(), fatal: null, exitCode: 0 };
  const res = await runner.run(['-force', '-batch', '-'], lines.join('\n') + '\n');
  const { failures, stray } = parseBatchErrors(res.stderr, lines.length);
  let fatal: string | null = null;
  if (res.code !== 0 && failures.size === 0) {
    fatal = stray.join('; ') || `ip -batch exited with status ${res.code}`;
  }
  return { failures, fatal, exitCode: res.code };
}
