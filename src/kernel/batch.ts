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

/** Lines in the first chunk: small, so ip starts working while the rest is planned. */
const FIRST_CHUNK_LINES = 2000;
/** Later chunks are sent once they hold this many bytes (fewer, larger pipe writes). */
const CHUNK_BYTES = 1 << 20;
/** Room kept for one line's prefix text (an IPv6 prefix is at most 43 characters). */
const PREFIX_ROOM = 64;

/**
 * One `ip -force -batch -` fed while it runs: lines are written in chunks as they are planned,
 * so the kernel works on the first chunk while the next one is computed. Falls back to a single
 * write when the runner cannot stream. `onOpen` runs once, just before ip starts.
 *
 * A line is `head PREFIX tail`, where head and tail are ASCII bytes shared by every route of a
 * shape: lines are built as bytes in one buffer, not as strings per route. Each line carries two
 * numbers (the caller's entry and operation) to map results back; lines are not kept.
 */
export class BatchStream {
  /** Per line: the caller's entry number. */
  readonly entries: number[] = [];
  /** Per line: the caller's operation code. */
  readonly ops: number[] = [];
  private buf = Buffer.allocUnsafe(4096);
  private used = 0;
  private pending = 0;
  private sentAny = false;
  private writer: BatchWriter | null = null;
  private opened = false;
  /** Chunks kept for a runner that cannot stream. */
  private held: string[] = [];

  constructor(
    private readonly runner: CommandRunner,
    private readonly onOpen: (expectedLines: number) => void,
  ) {}

  /** Lines pushed so far. */
  get length(): number {
    return this.entries.length;
  }

  /**
   * Appends one line: `head`, then the prefix (an IPv4 key written by `writeKey`, or text),
   * then `tail`.
   */
  push(
    entry: number,
    op: number,
    head: Uint8Array,
    prefix: number | string,
    writeKey: (buf: Uint8Array, at: number, key: number) => number,
    tail: Uint8Array,
  ): void {
    this.entries.push(entry);
    this.ops.push(op);
    const need = this.used + head.length + PREFIX_ROOM + tail.length + 1;
    if (need > this.buf.length) this.spill(need);
    const buf = this.buf;
    buf.set(head, this.used);
    let at = this.used + head.length;
    if (typeof prefix === 'number') at = writeKey(buf, at, prefix);
    else at += buf.write(prefix, at, 'latin1');
    buf.set(tail, at);
    at += tail.length;
    buf[at++] = 10;
    this.used = at;
    this.pending++;
  }

  /** Whether enough is waiting to be worth a write. */
  get ready(): boolean {
    return this.sentAny ? this.used >= CHUNK_BYTES : this.pending >= FIRST_CHUNK_LINES;
  }

  /** Lines pushed and not yet sent. */
  get unsent(): number {
    return this.pending;
  }

  /** Sends what was pushed so far (streaming runners only; others keep it for finish()). */
  async flush(): Promise<void> {
    if (this.pending === 0) return;
    if (this.runner.open === undefined) {
      this.held.push(this.take());
      this.sentAny = true;
      return;
    }
    if (!this.opened) {
      this.opened = true;
      this.onOpen(this.entries.length);
      this.writer = this.runner.open(BATCH_ARGS);
    }
    // The bytes themselves (a copy: the buffer is reused), not a string the pipe would encode.
    const bytes = Buffer.from(this.buf.subarray(0, this.used));
    this.used = 0;
    this.pending = 0;
    this.sentAny = true;
    await this.writer?.write(bytes);
  }

  async finish(): Promise<BatchOutcome> {
    const lines = this.entries.length;
    if (lines === 0) return { failures: new Map(), fatal: null, exitCode: 0 };
    let res: CommandResult;
    if (this.runner.open === undefined) {
      this.opened = true;
      this.onOpen(lines);
      if (this.pending > 0) this.held.push(this.take());
      const text = this.held.join('');
      this.held = [];
      res = await this.runner.run(BATCH_ARGS, text);
    } else {
      await this.flush();
      res = await (this.writer as BatchWriter).end();
    }
    return outcomeOf(res, lines);
  }

  /** The buffer is too small for the next line: a bigger one (the chunk is sent soon after). */
  private spill(need: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(need * 2, this.buf.length));
    this.buf.copy(bigger, 0, 0, this.used);
    this.buf = bigger;
  }

  private take(): string {
    // One flat one-byte string per chunk: cheap to hand to the pipe.
    const text = this.buf.toString('latin1', 0, this.used);
    this.used = 0;
    this.pending = 0;
    return text;
  }
}
