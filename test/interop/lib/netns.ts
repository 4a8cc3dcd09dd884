// Test-only network namespace toolkit: namespaces, veth pairs, bridges, addresses, commands
// and long-running processes inside a namespace, and a cleanup registry that undoes it all.
// Must not touch anything it did not create; never used by src/ or protocol/.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Result of a finished command. */
export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Run inside this network namespace (via `ip netns exec`). */
  ns?: string;
  /** Text written to the command's stdin. */
  input?: string;
  /** Kill the command after this many milliseconds (default 30 s). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Error thrown by {@link runOk} when a command exits non-zero. */
export class CommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly result: RunResult,
  ) {
    super(
      `command failed (${result.code ?? result.signal}): ${argv.join(' ')}\n${result.stderr.trim() || result.stdout.trim()}`,
    );
    this.name = 'CommandError';
  }
}

function withNs(ns: string | undefined, cmd: string, args: string[]): [string, string[]] {
  return ns === undefined ? [cmd, args] : ['ip', ['netns', 'exec', ns, cmd, ...args]];
}

/** Runs a command to completion and returns its output; never throws on a non-zero exit. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const [file, argv] = withNs(opts.ns, cmd, args);
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs a command and throws {@link CommandError} unless it exits 0. Returns stdout. */
export async function runOk(cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  const res = await run(cmd, args, opts);
  if (res.code !== 0) throw new CommandError([...withNs(opts.ns, cmd, args).flat()], res);
  return res.stdout;
}

/** Runs `ip ARGS` (optionally in a namespace) and throws on failure. */
export function ip(args: string[], ns?: string): Promise<string> {
  return runOk('ip', args, { ns });
}

/**
 * Cleanup registry: actions run in reverse order of registration, each at most once, and a failing
 * action never stops the others. Pass `() => cleanup.run()` to `t.teardown`.
 */
export class Cleanup {
  private readonly actions: { what: string; fn: () => Promise<unknown> | unknown }[] = [];
  private ran = false;

  /** Registers an action; returns a function that runs it early (and unregisters it). */
  add(what: string, fn: () => Promise<unknown> | unknown): () => Promise<void> {
    const entry = { what, fn };
    this.actions.push(entry);
    return async () => {
      const i = this.actions.indexOf(entry);
      if (i < 0) return;
      this.actions.splice(i, 1);
      await fn();
    };
  }

  /** Runs every registered action, newest first. Returns the errors met (also kept quiet). */
  async run(): Promise<Error[]> {
    const errors: Error[] = [];
    this.ran = true;
    while (this.actions.length > 0) {
      const { what, fn } = this.actions.pop()!;
      try {
        await fn();
      } catch (err) {
        errors.push(new Error(`cleanup "${what}" failed: ${(err as Error).message}`));
      }
    }
    return errors;
  }

  get done(): boolean {
    return this.ran && this.actions.length === 0;
  }
}

/**
 * A short unique name: PREFIX + 6 random hex chars. Interface names are limited to 15
 * characters, so keep prefixes to 8 or fewer characters.
 */
export function uniqueName(prefix: string): string {
  const name = `${prefix}${randomBytes(3).toString('hex')}`;
  if (name.length > 15)
    throw new Error(`name ${name} is longer than 15 characters; shorten the prefix`);
  return name;
}

/** Makes a temp directory removed by `cleanup`. */
export async function tempDir(cleanup: Cleanup, prefix = 'podbgp-interop-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanup.add(`rm ${dir}`, () => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Creates a network namespace with `lo` up; it is deleted (with all its processes killed) by `cleanup`. */
export async function createNetns(cleanup: Cleanup, name: string): Promise<string> {
  await ip(['netns', 'add', name]);
  cleanup.add(`netns ${name}`, async () => {
    // Kill whatever still runs inside before deleting the namespace.
    const pids = await run('ip', ['netns', 'pids', name]);
    for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await run('ip', ['netns', 'del', name]);
  });
  await ip(['link', 'set', 'lo', 'up'], name);
  // Let the namespace forward so it can sit between two others; harmless otherwise.
  await runOk('sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1'], { ns: name });
  await runOk('sysctl', ['-q', '-w', 'net.ipv6.conf.all.forwarding=1'], { ns: name });
  return name;
}

export interface VethEnd {
  ns: string;
  name: string;
  /** Addresses in CIDR form, IPv4 or IPv6 (IPv6 ones are added with `nodad`). */
  addresses?: string[];
}

/** Creates a veth pair joining two namespaces, brings both ends up and adds their addresses. */
export async function createVeth(cleanup: Cleanup, a: VethEnd, b: VethEnd): Promise<void> {
  await ip([
    'link',
    'add',
    a.name,
    'netns',
    a.ns,
    'type',
    'veth',
    'peer',
    'name',
    b.name,
    'netns',
    b.ns,
  ]);
  cleanup.add(`veth ${a.name}`, () => run('ip', ['-n', a.ns, 'link', 'del', a.name]));
  for (const end of [a, b]) {
    for (const addr of end.addresses ?? []) await addAddress(end.ns, end.name, addr);
    await ip(['link', 'set', end.name, 'up'], end.ns);
  }
}

/** Creates a bridge in a namespace and brings it up. Ports join it with {@link attachToBridge}. */
export async function createBridge(
  cleanup: Cleanup,
  ns: string,
  name: string,
  addresses: string[] = [],
): Promise<void> {
  await ip(['link', 'add', name, 'type', 'bridge'], ns);
  cleanup.add(`bridge ${name}`, () => run('ip', ['-n', ns, 'link', 'del', name]));
  for (const addr of addresses) await addAddress(ns, name, addr);
  await ip(['link', 'set', name, 'up'], ns);
}

export async function attachToBridge(ns: string, dev: string, bridge: string): Promise<void> {
  await ip(['link', 'set', dev, 'master', bridge], ns);
  await ip(['link', 'set', dev, 'up'], ns);
}

/** Adds an address; IPv6 addresses get `nodad` so they are usable at once. */
export async function addAddress(ns: string, dev: string, cidr: string): Promise<void> {
  const v6 = cidr.includes(':');
  await ip(['addr', 'add', cidr, 'dev', dev, ...(v6 ? ['nodad'] : [])], ns);
}

/** The IPv6 link-local address of a device (waits until the kernel has assigned it). */
export async function linkLocalOf(ns: string, dev: string, timeoutMs = 10_000): Promise<string> {
  return waitFor(
    async () => {
      const out = await ip(['-j', '-6', 'addr', 'show', 'dev', dev, 'scope', 'link'], ns);
      const parsed = JSON.parse(out) as { addr_info?: { local?: string; tentative?: boolean }[] }[];
      // `ip -j` lists filtered-out addresses as empty objects: skip those and tentative ones.
      const info = parsed[0]?.addr_info?.find((a) => a.local !== undefined && !a.tentative);
      return info?.local;
    },
    { timeoutMs, what: `link-local address on ${ns}/${dev}` },
  );
}

/** Disables IPv6 DAD on every current and future interface of a namespace. */
export async function disableDad(ns: string): Promise<void> {
  await runOk('sysctl', ['-q', '-w', 'net.ipv6.conf.all.accept_dad=0'], { ns });
  await runOk('sysctl', ['-q', '-w', 'net.ipv6.conf.default.accept_dad=0'], { ns });
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** What is being waited for, used in the timeout error. */
  what?: string;
}

/** Polls `probe` until it returns a value other than undefined/false, or throws after the deadline. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  opts: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(
        `timed out after ${opts.timeoutMs ?? 30_000} ms waiting for ${opts.what ?? 'condition'}${why}`,
      );
    }
    await sleep(opts.intervalMs ?? 250);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface SpawnOptions {
  ns?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Signal sent by stop() first (default SIGTERM); SIGKILL follows after killAfterMs. */
  stopSignal?: NodeJS.Signals;
  killAfterMs?: number;
}

/** A long-running process started by {@link spawnProcess}. */
export interface ProcessHandle {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything written to stdout and stderr so far (bounded to the last 1 MiB). */
  output(): string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  isRunning(): boolean;
  /** Sends a signal (default: the stop signal), waits for exit, SIGKILLs after a grace period. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Sends a signal without waiting (SIGSTOP/SIGCONT for hold timer tests). */
  signal(sig: NodeJS.Signals): void;
}

/**
 * Spawns a long-running process (in a namespace when `ns` is given). The process is stopped by
 * `cleanup`. With `ip netns exec` the netns tool execs the command, so the pid is the daemon's.
 */
export function spawnProcess(
  cleanup: Cleanup,
  cmd: string,
  args: string[],
  opts: SpawnOptions = {},
): ProcessHandle {
  const [file, argv] = withNs(opts.ns, cmd, args);
  const child = spawn(file, argv, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: opts.env ?? process.env,
    cwd: opts.cwd,
  });
  let out = '';
  const append = (d: string): void => {
    out += d;
    if (out.length > 1 << 20) out = out.slice(-(1 << 20));
  };
  child.stdout!.setEncoding('utf8').on('data', append);
  child.stderr!.setEncoding('utf8').on('data', append);
  let running = child.pid !== undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('error', (err) => {
      append(`\n[spawn error] ${err.message}\n`);
      running = false;
      resolve({ code: null, signal: null });
    });
    child.on('exit', (code, signal) => {
      running = false;
      resolve({ code, signal });
    });
  });
  const stop = async (signal?: NodeJS.Signals): Promise<void> => {
    if (!running) return;
    try {
      child.kill('SIGCONT');
      child.kill(signal ?? opts.stopSignal ?? 'SIGTERM');
    } catch {
      return;
    }
    const killed = await Promise.race([
      exited.then(() => true),
      sleep(opts.killAfterMs ?? 5000).then(() => false),
    ]);
    if (!killed && running) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  cleanup.add(`process ${cmd}`, () => stop());
  return {
    child,
    pid: child.pid ?? -1,
    output: () => out,
    exited,
    isRunning: () => running,
    stop,
    signal: (sig) => {
      if (running) child.kill(sig);
    },
  };
}

/** True when running as root (needed for namespaces). */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}
