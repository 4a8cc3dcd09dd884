// Applies a list of route commands with ONE `ip -force -batch -` and maps iproute2's per-line
// failures ("RTNETLINK answers: ...", then "Command failed -:N") back to the commands.
// Must not decide what to apply; -force keeps one bad line from stopping the rest.

import type { BatchWriter, CommandResult, CommandRunner } from './types.js';

const BATCH_ARGS = ['-force', '-batch', '-'] as const;

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

function outcomeOf(res: CommandResult, lineCount: number): BatchOutcome {
  const { failures, stray } = parseBatchErrors(res.stderr, lineCount);
  let fatal: string | null = null;
  if (res.code !== 0 && failures.size === 0) {
    fatal = stray.join('; ') || `ip -batch exited with status ${res.code}`;
  }
  return { failures, fatal, exitCode: res.code };
}

export async function runBatch(
  runner: CommandRunner,
  lines: readonly string[],
): Promise<BatchOutcome> {
  if (lines.length === 0) return { failures: new Map(), fatal: null, exitCode: 0 };
  const res = await runner.run(BATCH_ARGS, lines.join('\n') + '\n');
  return outcomeOf(res, lines.length);
}

/**
 * One `ip -force -batch -` fed while it runs: lines are written in chunks as they are planned,
 * so the kernel works on the first chunk while the next one is computed. Falls back to a single
 * write when the runner cannot stream. `onOpen` runs once, just before ip starts. Items are kept
 * (to map results back); their lines are not, since 100,000 live strings cost GC time.
 */
export class BatchStream<T> {
  readonly items: T[] = [];
  private text = '';
  private pending = 0;
  private writer: BatchWriter | null = null;
  private opened = false;

  constructor(
    private readonly runner: CommandRunner,
    private readonly onOpen: (expectedLines: number) => void,
  ) {}

  push(item: T, line: string): void {
    this.items.push(item);
    this.text += line + '\n';
    this.pending++;
  }

  get unsent(): number {
    return this.pending;
  }

  /** Sends what was pushed so far (streaming runners only). */
  async flush(): Promise<void> {
    if (this.runner.open === undefined || this.pending === 0) return;
    if (!this.opened) {
      this.opened = true;
      this.onOpen(this.items.length);
      this.writer = this.runner.open(BATCH_ARGS);
    }
    const text = this.take();
    await this.writer?.write(text);
  }

  async finish(): Promise<BatchOutcome> {
    if (this.items.length === 0) return { failures: new Map(), fatal: null, exitCode: 0 };
    let res: CommandResult;
    if (this.runner.open === undefined) {
      this.opened = true;
      this.onOpen(this.items.length);
      res = await this.runner.run(BATCH_ARGS, this.take());
    } else {
      await this.flush();
      res = await (this.writer as BatchWriter).end();
    }
    return outcomeOf(res, this.items.length);
  }

  private take(): string {
    const text = this.text;
    this.text = '';
    this.pending = 0;
    return text;
  }
}
