// The real command runner: spawns iproute2's `ip`, optionally inside a network namespace
// (`ip -n NS ...`) so tests and the lab can target a namespace. Must not parse output.
// No RFC: the kernel interface is iproute2 (`ip -json`, `ip -batch`, `ip monitor`).

import { spawn, type ChildProcess } from 'node:child_process';
import type { BatchWriter, CommandResult, CommandRunner, StreamHandle } from './types.js';

export interface IpCommandRunnerOptions {
  /** Run every command in this network namespace (`ip -n NS`). */
  netns?: string;
  /** The `ip` binary. Default `ip` from PATH. */
  binary?: string;
}

export class IpCommandRunner implements CommandRunner {
  private readonly binary: string;
  private readonly prefix: string[];

  constructor(opts: IpCommandRunnerOptions = {}) {
    this.binary = opts.binary ?? 'ip';
    this.prefix = opts.netns === undefined ? [] : ['-n', opts.netns];
  }

  run(args: readonly string[], input?: string): Promise<CommandResult> {
    const child = spawn(this.binary, [...this.prefix, ...args], {
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const result = collect(child, null);
    if (input !== undefined && child.stdin !== null) {
      child.stdin.on('error', () => {
        // EPIPE when ip exits early; the exit status reports the failure.
      });
      child.stdin.end(input);
    }
    return result;
  }

  runChunks(args: readonly string[], onChunk: (chunk: string) => void): Promise<CommandResult> {
    const child = spawn(this.binary, [...this.prefix, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return collect(child, onChunk);
  }

  open(args: readonly string[]): BatchWriter {
    const child = spawn(this.binary, [...this.prefix, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin?.on('error', () => {
      // EPIPE when ip exits early; the exit status reports the failure.
    });
    const closed = collect(child, null);
    return {
      write: (chunk: string | Uint8Array) =>
        new Promise<void>((resolve) => {
          const stdin = child.stdin;
          if (stdin === null || stdin.destroyed || !stdin.writable) {
            resolve();
            return;
          }
          stdin.write(chunk, () => resolve());
        }),
      end: () => {
        child.stdin?.end();
        return closed;
      },
    };
  }

  stream(
    args: readonly string[],
    onLine: (line: string) => void,
    onExit: (code: number | null, stderr: string) => void,
  ): StreamHandle {
    const child = spawn(this.binary, [...this.prefix, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let rest = '';
    let stderr = '';
    let exited = false;
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      const text = rest + chunk;
      const lines = text.split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) onLine(l);
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (c: string) => {
      if (stderr.length < 4096) stderr += c;
    });
    const finish = (code: number | null): void => {
      if (exited) return;
      exited = true;
      if (rest !== '') onLine(rest);
      onExit(code, stderr);
    };
    child.on('error', (e) => {
      stderr += e.message;
      finish(127);
    });
    child.on('close', (code) => finish(code));
    return {
      kill: () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      },
    };
  }
}

/**
 * The exit of a spawned `ip`: its status, its stdout (kept whole, or handed to `onChunk` as it
 * arrives and then left empty) and its stderr, with a spawn failure or a signal added to it.
 */
function collect(
  child: ChildProcess,
  onChunk: ((chunk: string) => void) | null,
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let spawnError: Error | null = null;
    if (onChunk !== null) {
      // A decoding stream: a UTF-8 character split between two reads is not broken.
      child.stdout?.setEncoding('utf8');
      child.stdout?.on('data', (c: string) => onChunk(c));
    } else child.stdout?.on('data', (c: Buffer) => out.push(c));
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) => {
      spawnError = e;
    });
    child.on('close', (code, signal) => {
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({
        code: code ?? (spawnError !== null ? 127 : 128),
        stdout: onChunk !== null ? '' : Buffer.concat(out).toString('utf8'),
        stderr:
          spawnError !== null
            ? `${stderr}${(spawnError as Error).message}\n`
            : signal !== null
              ? `${stderr}killed by ${signal}\n`
              : stderr,
      });
    });
  });
}
