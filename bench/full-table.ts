// Full-table benchmark: podbgp and BIRD 2 side by side, each in its own network namespace, each
// fed the same IPv4 table over eBGP by bench/feeder.ts from a third namespace. Prints load,
// End-of-RIB, memory, CPU and withdrawal figures with the ratio podbgp/BIRD. Not a test.
// RFC 4271 §9 (the work measured), RFC 2918 (ROUTE-REFRESH echo used as the timing mark).
//
// Run (root; BIRD 2 installed; `npm run build` first, or pass --tsx):
//   node --import tsx bench/full-table.ts [--sizes 100000,1000000] [--sets 50000] [--tsx]
//        [--cpu-prof DIR] [--only podbgp|bird] [--timeout SECONDS] [--no-echo]
//        [--node-flags "--max-semi-space-size=4 ..."] [--daemon-log FILE] [--reload]
//
// What is measured, per daemon, the daemons taking turns (never fed at the same time):
// - load: t0 = the feeder starts writing the table, End-of-RIB and a ROUTE-REFRESH (1.5 s after
//   Established, so session start-up is over). "count reached N": the accepted-route count,
//   polled every 10 ms over each daemon's control socket (podbgp `show peers`, BIRD `show
//   protocols all`), first seen at N. "End-of-RIB processed": the daemon's reply to the
//   ROUTE-REFRESH sent right after End-of-RIB (messages are handled in order). Both are upper
//   bounds; the best bound is the smaller. --no-echo sends no ROUTE-REFRESH (podbgp answers
//   one by walking its whole Loc-RIB, which the echo figure then includes).
// - kernel: podbgp writes every route to its kernel table (200 here; this cannot be turned
//   off), starting during the load; "kernel has all" counts table 200 through
//   /proc/PID/net/fib_triestat. BIRD has no kernel protocol here (no kernel export).
// - memory: VmHWM (peak RSS, reset through clear_refs just before the feed) minus VmRSS just
//   before the feed, read when the count reached N and again after the kernel phase; also RSS
//   3 s after the load. Bytes per route = that growth / prefixes.
// - CPU: utime+stime from /proc/PID/stat; podbgp's `ip -batch` children are counted apart.
// - withdrawal: once the daemon is idle again, every prefix is withdrawn in 4096-octet
//   UPDATEs; timed until the polled count is 0 (podbgp: and until its kernel table is empty).
// - reload (--reload): once idle again, the same table is sent a second time, to the same
//   process, and timed as the first load was: the load with the code already warm.
// The pool filter: podbgp accepts only prefixes inside a pool with length >= blockSize; the
// feed (/24s from 1.0.0.0 up) lies in the pool 0.0.0.0/1 with blockSize 24.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync, readdirSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { request } from '../src/control/client.js';
import type { PeerSummary } from '../src/control/protocol.js';
import {
  Cleanup,
  createNetns,
  createVeth,
  isRoot,
  missingReason,
  run,
  runOk,
  sleep,
  spawnProcess,
  startBird,
  tempDir,
  versionOf,
  type ProcessHandle,
} from '../test/interop/lib/index.js';
import type { FeederConfig } from './feeder.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string =>
  args.includes(name) ? args[args.indexOf(name) + 1] : dflt;
const sizes = opt('--sizes', '100000,1000000').split(',').map(Number);
const attributeSets = Number(opt('--sets', '50000'));
const useTsx = args.includes('--tsx') || !existsSync(path.join(ROOT, 'dist/src/cli/main.js'));
const cpuProfDir = args.includes('--cpu-prof') ? path.resolve(opt('--cpu-prof', '')) : null;
const only = opt('--only', '');
const timeoutMs = Number(opt('--timeout', '900')) * 1000;
const echo = !args.includes('--no-echo');
const reload = args.includes('--reload');
/** Where to write podbgp's own output (e.g. with --node-flags "... --trace-gc"). */
const daemonLog = args.includes('--daemon-log') ? path.resolve(opt('--daemon-log', '')) : null;
/**
 * Node flags for the podbgp process: by default those of the launcher line of src/cli/main.ts
 * (what `podbgp` runs with when started as a command); --node-flags replaces them.
 */
const launcherFlags = readFileSync(path.join(ROOT, 'src/cli/main.ts'), 'utf8')
  .split('\n')[0]
  .replace(/^#!.*?\bnode\b/, '');
const nodeFlags = opt('--node-flags', launcherFlags).split(' ').filter(Boolean);

const NS = { feed: 'pbf-feed', pod: 'pbf-pod', bird: 'pbf-bird' };
const LINK = {
  pod: { feed: '172.31.1.1', daemon: '172.31.1.2' },
  bird: { feed: '172.31.2.1', daemon: '172.31.2.2' },
};
const FEED_AS = 65001;
const LOCAL_AS = 65000;
const KERNEL_TABLE = 200;
/** The daemons' one exported route, re-sent on ROUTE-REFRESH: our echo. */
const ECHO_BLOCK = '100.64.0.0/26';
const HOLD = 240;
const CLK_TCK = 100;
/** Route counts are polled this often (both daemons alike). */
const POLL_MS = 10;

const now = (): number => performance.timeOrigin + performance.now();
/** CPU profiles time samples on the monotonic clock (µs): epoch ms -> that clock. */
const MONO_OFFSET_US = Number(process.hrtime.bigint() / 1000n) - now() * 1000;
const mono = (epochMs: number): number => epochMs * 1000 + MONO_OFFSET_US;
/** Phases of the podbgp run, to split its CPU profile. */
const phases: { name: string; from: number; to: number }[] = [];

// --- /proc ------------------------------------------------------------------------------

interface Cpu {
  self: number;
  children: number;
}

/** utime+stime (and cutime+cstime of reaped children) in seconds. */
function cpuOf(pid: number): Cpu {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  // Fields 14-17 of proc(5), counted from field 3 (state) at index 0.
  const [ut, st, cut, cst] = [f[11], f[12], f[13], f[14]].map(Number);
  return { self: (ut + st) / CLK_TCK, children: (cut + cst) / CLK_TCK };
}

function memOf(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number =>
    Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1]) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** proc(5) clear_refs: 5 resets the peak RSS (VmHWM) to the current RSS. */
function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

/** Routes in kernel table `table` of the namespace `pid` lives in. */
function kernelRoutes(pid: number, table: number): number {
  const s = readFileSync(`/proc/${pid}/net/fib_triestat`, 'utf8');
  const at = s.indexOf(`Id ${table}:`);
  if (at < 0) return 0;
  return Number(/Prefixes:\s+(\d+)/.exec(s.slice(at))?.[1] ?? 0);
}

// --- daemons ----------------------------------------------------------------------------

interface Target {
  name: 'BIRD' | 'podbgp';
  ns: string;
  link: { feed: string; daemon: string };
  pid: () => number;
  /** Routes accepted from the feeder, as the daemon reports them. */
  status: () => Promise<{ count: number }>;
  /** podbgp only: routes in its kernel table. */
  kernel?: () => number;
}

function birdConfig(): string {
  return [
    `router id ${LINK.bird.daemon};`,
    'protocol device {}',
    process.env.BIRD_DEBUG ? `log "${process.env.BIRD_DEBUG}" all;` : '',
    `protocol static echo_route { ipv4; route ${ECHO_BLOCK} blackhole; }`,
    // No `protocol kernel`: BIRD keeps the table in its RIB only.
    'protocol bgp feeder {',
    `  local ${LINK.bird.daemon} as ${LOCAL_AS};`,
    `  neighbor ${LINK.bird.feed} as ${FEED_AS};`,
    '  passive on;',
    process.env.BIRD_DEBUG ? '  debug { states, events, packets };' : '',
    `  hold time ${HOLD};`,
    '  ipv4 { import all; export where proto = "echo_route"; };',
    '}',
    '',
  ].join('\n');
}

function podbgpConfig(sock: string): string {
  return [
    `node: { name: bench, asn: ${LOCAL_AS}, routerId: ${LINK.pod.daemon}, ipv4: { address: ${LINK.pod.daemon}/24 } }`,
    // The import pool filter accepts only prefixes inside a pool with length >= blockSize: one
    // pool over 0.0.0.0/1 with /24 blocks admits the whole feed (/24s from 1.0.0.0 up).
    '# The pool filter admits the feed: /24..32 inside 0.0.0.0/1.',
    `pools: [{ cidr: 0.0.0.0/1, blockSize: 24, ipipMode: Never }]`,
    `staticBlocks: [${ECHO_BLOCK}]`,
    'peers:',
    `  - { address: ${LINK.pod.feed}, asn: ${FEED_AS}, passive: true, holdTime: ${HOLD} }`,
    `kernel: { table: ${KERNEL_TABLE} }`,
    'kubernetes: { enabled: false }',
    `control: { socket: ${sock} }`,
    'metrics: { listen: 127.0.0.1:19279 }',
    'logLevel: warn',
    '',
  ].join('\n');
}

async function startPodbgp(
  cleanup: Cleanup,
  dir: string,
): Promise<{ t: Target; p: ProcessHandle }> {
  const sock = path.join(dir, 'podbgp.sock');
  const config = path.join(dir, 'podbgp.yaml');
  writeFileSync(config, podbgpConfig(sock));
  const entry = useTsx
    ? ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts')]
    : [path.join(ROOT, 'dist/src/cli/main.js')];
  const prof = cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : [];
  const p = spawnProcess(
    cleanup,
    process.execPath,
    [...nodeFlags, ...prof, ...entry, 'run', '--config', config, '--no-pretty'],
    { ns: NS.pod, killAfterMs: 20_000 },
  );
  const t: Target = {
    name: 'podbgp',
    ns: NS.pod,
    link: LINK.pod,
    pid: () => p.pid,
    // `show peers`, not `show peer ADDR`: the latter walks the whole Adj-RIB-In to count stale
    // routes (daemon/views.ts staleCount), which would load the daemon under test.
    status: async () => {
      const all = (await request(sock, 'show-peers', {}, 60_000)) as PeerSummary[];
      return { count: all.find((x) => x.address === LINK.pod.feed)?.prefixes.accepted ?? -1 };
    },
    kernel: () => kernelRoutes(p.pid, KERNEL_TABLE),
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (!p.isRunning()) throw new Error(`podbgp exited:\n${p.output()}`);
    if (
      await t.status().then(
        () => true,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) throw new Error(`podbgp did not start:\n${p.output()}`);
    await sleep(200);
  }
  return { t, p };
}

/**
 * BIRD's control socket held open, so a poll costs one round trip and no process start.
 * Replies are lines `NNNN-text` / ` text`, ending with a line `NNNN text` (code, space).
 */
class BirdCtl {
  private buf = '';
  private waiter: ((text: string) => void) | null = null;
  private constructor(private readonly sock: net.Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      const m = /^\d{4} .*$/m.exec(this.buf);
      if (m && this.waiter) {
        const end = m.index + m[0].length;
        const text = this.buf.slice(0, end);
        this.buf = this.buf.slice(end + 1);
        const w = this.waiter;
        this.waiter = null;
        w(text);
      }
    });
  }

  static async open(path: string): Promise<BirdCtl> {
    const sock = net.connect(path);
    const ctl = new BirdCtl(sock);
    await new Promise<string>((r) => (ctl.waiter = r)); // the greeting, 0001 BIRD ... ready.
    return ctl;
  }

  command(cmd: string): Promise<string> {
    return new Promise((r) => {
      this.waiter = r;
      this.sock.write(cmd + '\n');
    });
  }

  close(): void {
    this.sock.destroy();
  }
}

// --- the feeder -------------------------------------------------------------------------

type FeederEvent = { event: string; t: number } & Record<string, number | string>;

class Feeder {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<string, (e: FeederEvent) => void>();
  private readonly seen: FeederEvent[] = [];
  private failure: string | null = null;

  constructor(cleanup: Cleanup, cfg: FeederConfig) {
    this.child = spawn(
      'ip',
      [
        'netns',
        'exec',
        NS.feed,
        process.execPath,
        '--import',
        'tsx',
        path.join(ROOT, 'bench/feeder.ts'),
        JSON.stringify(cfg),
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    cleanup.add('feeder', () => {
      if (this.child.exitCode === null) this.child.kill('SIGKILL');
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      let e: FeederEvent;
      try {
        e = JSON.parse(line) as FeederEvent;
      } catch {
        return;
      }
      if (e.event === 'error') this.failure = String(e.message);
      this.seen.push(e);
      this.waiting.get(e.event)?.(e);
    });
  }

  /** When the first UPDATE at or after `t` arrived (waiting up to `ms`), or null. */
  async echoAfter(t: number, ms: number): Promise<number | null> {
    const end = Date.now() + ms;
    for (;;) {
      const e = this.seen.find((x) => x.event === 'rx' && x.t >= t);
      if (e) return e.t;
      if (Date.now() > end) return null;
      await sleep(20);
    }
  }

  send(cmd: string): void {
    this.child.stdin!.write(cmd + '\n');
  }

  /** The next (or an already seen, not yet taken) event of this name. */
  next(event: string, ms = timeoutMs): Promise<FeederEvent> {
    const i = this.seen.findIndex((e) => e.event === event);
    if (i >= 0) return Promise.resolve(this.seen.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(event);
        reject(
          new Error(
            `feeder: no ${event} within ${ms} ms${this.failure ? ` (${this.failure})` : ''}`,
          ),
        );
      }, ms);
      const poll = setInterval(() => {
        if (this.failure !== null) {
          clearInterval(poll);
          clearTimeout(timer);
          reject(new Error(`feeder: ${this.failure}`));
        }
      }, 100);
      this.waiting.set(event, (e) => {
        clearTimeout(timer);
        clearInterval(poll);
        this.waiting.delete(event);
        this.seen.splice(this.seen.indexOf(e), 1);
        resolve(e);
      });
    });
  }
}

// --- one daemon -------------------------------------------------------------------------

interface Figures {
  writtenS: number;
  locRibS: number;
  eorEchoS: number | null;
  kernelS: number | null;
  cpuLocRibS: number;
  cpuKernelS: number | null;
  childCpuS: number | null;
  idleRss: number;
  locRibPeakAbove: number;
  peakAbove: number;
  settledAbove: number;
  withdrawS: number;
  withdrawCpuS: number;
  kernelWithdrawS: number | null;
  /** --reload: the second load of the same table, by the same process. */
  reloadS: number | null;
}

interface Seen {
  at: number;
  cpu: Cpu;
}

/**
 * Polls `probe` every POLL_MS until `done`; returns when each condition was first seen (the
 * time the answer arrived, an upper bound) and the CPU used by then.
 */
async function pollUntil<S>(
  what: string,
  pid: number,
  probe: () => Promise<S> | S,
  conditions: Record<string, (s: S) => boolean>,
): Promise<Record<string, Seen>> {
  const seen: Record<string, Seen> = {};
  const names = Object.keys(conditions);
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = await probe();
    const at = now();
    for (const k of names) {
      if (!seen[k] && conditions[k](s)) seen[k] = { at, cpu: cpuOf(pid) };
    }
    if (names.every((k) => seen[k])) return seen;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

/** Waits (up to 2 minutes) until `pid` uses under 2% of a core over a second. */
async function quiesce(pid: number): Promise<void> {
  const end = Date.now() + 120_000;
  let last = cpuOf(pid).self;
  while (Date.now() < end) {
    await sleep(1000);
    const cur = cpuOf(pid).self;
    if (cur - last < 0.02) return;
    last = cur;
  }
}

async function measure(cleanup: Cleanup, t: Target, n: number): Promise<Figures> {
  const feeder = new Feeder(cleanup, {
    peer: t.link.daemon,
    asn: FEED_AS,
    peerAsn: LOCAL_AS,
    routerId: t.link.feed,
    nextHop: t.link.feed,
    prefixes: n,
    attributeSets,
    holdTime: HOLD,
    echo,
  });
  const built = await feeder.next('built');
  console.log(
    `  ${t.name}: feed of ${n} prefixes in ${built.updates} UPDATEs (${(Number(built.bytes) / 2 ** 20).toFixed(1)} MiB)`,
  );
  await feeder.next('established', 60_000);
  await sleep(1500);

  const pid = t.pid();
  const idle = memOf(pid);
  resetPeak(pid);
  const cpu0 = cpuOf(pid);
  const kernel0 = t.kernel?.() ?? 0;
  feeder.send('feed');
  const polled = await pollUntil('the table to load', pid, t.status, {
    all: (s) => s.count >= n,
  });
  // podbgp starts its kernel work during the load; what it holds once the RIB is loaded:
  const atLocRib = memOf(pid);
  const fed = await feeder.next('fed');
  const t0 = Number(fed.t0);
  // The reply to the ROUTE-REFRESH sent after End-of-RIB: the first UPDATE after `written`.
  const echoAt = echo ? await feeder.echoAfter(Number(fed.written), 5000) : null;
  let kernelS: number | null = null;
  let cpuKernel: Cpu | null = null;
  if (t.kernel) {
    // podbgp's own block was in the table before the feed.
    const k = await pollUntil('the kernel table to hold the feed', pid, t.kernel, {
      all: (c) => c >= kernel0 + n,
    });
    kernelS = (k.all.at - t0) / 1000;
    // Let `ip -batch` be reaped so its CPU shows in cutime.
    await sleep(500);
    cpuKernel = cpuOf(pid);
  }
  if (t.kernel) {
    const eorAt = echoAt ?? polled.all.at;
    phases.push({ name: 'load: start -> End-of-RIB processed', from: mono(t0), to: mono(eorAt) });
    phases.push({
      name: 'kernel: End-of-RIB -> kernel has all',
      from: mono(eorAt),
      to: mono(t0 + (kernelS ?? 0) * 1000),
    });
  }
  await sleep(3000);
  const loaded = memOf(pid);
  // Withdraw only once the daemon is idle again (podbgp verifies its kernel table some time
  // after a big batch), so the withdrawal is timed alone.
  await quiesce(pid);

  const cpuW0 = cpuOf(pid);
  feeder.send('withdraw');
  const gone = await pollUntil('every prefix withdrawn', pid, t.status, {
    none: (s) => s.count === 0,
  });
  const wd = await feeder.next('withdrawing');
  let kernelWithdrawS: number | null = null;
  if (t.kernel) {
    const k = await pollUntil('the kernel table to lose the feed', pid, t.kernel, {
      none: (c) => c <= kernel0,
    });
    kernelWithdrawS = (k.none.at - Number(wd.t0)) / 1000;
  }
  if (t.kernel)
    phases.push({
      name: 'withdrawal (RIB and kernel)',
      from: mono(Number(wd.t0)),
      to: now() * 1000 + MONO_OFFSET_US,
    });
  let reloadS: number | null = null;
  if (reload) {
    await quiesce(pid);
    feeder.send('feed');
    const again = await pollUntil('the table to load again', pid, t.status, {
      all: (s) => s.count >= n,
    });
    reloadS = (again.all.at - Number((await feeder.next('fed')).t0)) / 1000;
  }
  feeder.send('close');
  await feeder.next('closed', 10_000).catch(() => undefined);

  return {
    writtenS: (Number(fed.written) - t0) / 1000,
    locRibS: (polled.all.at - t0) / 1000,
    eorEchoS: echoAt === null ? null : (echoAt - t0) / 1000,
    kernelS,
    cpuLocRibS: polled.all.cpu.self - cpu0.self,
    cpuKernelS: cpuKernel ? cpuKernel.self - cpu0.self : null,
    childCpuS: cpuKernel ? cpuKernel.children - cpu0.children : null,
    idleRss: idle.rss,
    locRibPeakAbove: atLocRib.hwm - idle.rss,
    peakAbove: loaded.hwm - idle.rss,
    settledAbove: loaded.rss - idle.rss,
    withdrawS: (gone.none.at - Number(wd.t0)) / 1000,
    withdrawCpuS: gone.none.cpu.self - cpuW0.self,
    kernelWithdrawS,
    reloadS,
  };
}

// --- report -----------------------------------------------------------------------------

function report(n: number, res: Partial<Record<'BIRD' | 'podbgp', Figures>>): void {
  const b = res.BIRD;
  const p = res.podbgp;
  const rows: [string, (f: Figures) => number | null, (v: number) => string][] = [
    ['feed written by the feeder (s)', (f) => f.writtenS, (v) => v.toFixed(3)],
    [
      'start -> all in Loc-RIB (s, best bound)',
      (f) => Math.min(f.locRibS, f.eorEchoS ?? Infinity),
      (v) => v.toFixed(3),
    ],
    ['  count reached N (s, polled)', (f) => f.locRibS, (v) => v.toFixed(3)],
    ['start -> End-of-RIB processed (s, echo)', (f) => f.eorEchoS, (v) => v.toFixed(3)],
    ['start -> kernel has all (s)', (f) => f.kernelS, (v) => v.toFixed(3)],
    ['CPU to count reached N (s)', (f) => f.cpuLocRibS, (v) => v.toFixed(2)],
    ['CPU incl. kernel sync (s, daemon)', (f) => f.cpuKernelS, (v) => v.toFixed(2)],
    ['CPU of `ip` children (s)', (f) => f.childCpuS, (v) => v.toFixed(2)],
    ['idle RSS (MiB)', (f) => f.idleRss / 2 ** 20, (v) => v.toFixed(1)],
    [
      'peak RSS above idle to count N (MiB)',
      (f) => f.locRibPeakAbove / 2 ** 20,
      (v) => v.toFixed(1),
    ],
    ['peak RSS above idle (MiB)', (f) => f.peakAbove / 2 ** 20, (v) => v.toFixed(1)],
    ['peak bytes per route', (f) => f.peakAbove / n, (v) => v.toFixed(0)],
    ['settled RSS above idle, bytes/route', (f) => f.settledAbove / n, (v) => v.toFixed(0)],
    ['full withdrawal (s)', (f) => f.withdrawS, (v) => v.toFixed(3)],
    ['  CPU of the withdrawal (s)', (f) => f.withdrawCpuS, (v) => v.toFixed(2)],
    ['  kernel emptied (s)', (f) => f.kernelWithdrawS, (v) => v.toFixed(3)],
    ['second load, same process (s, --reload)', (f) => f.reloadS, (v) => v.toFixed(3)],
  ];
  console.log(`\n${n} prefixes, ${attributeSets} attribute sets`);
  console.log(
    `${'figure'.padEnd(42)}${'BIRD'.padStart(10)}${'podbgp'.padStart(10)}${'ratio'.padStart(9)}`,
  );
  for (const [label, get, fmt] of rows) {
    const bv = b ? get(b) : null;
    const pv = p ? get(p) : null;
    const ratio = bv !== null && pv !== null && bv > 0 ? `${(pv / bv).toFixed(2)}x` : '';
    console.log(
      `${label.padEnd(42)}${(bv === null ? '-' : fmt(bv)).padStart(10)}${(pv === null ? '-' : fmt(pv)).padStart(10)}${ratio.padStart(9)}`,
    );
  }
}

// --- CPU profile summary ----------------------------------------------------------------

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

const pct = (us: number, total: number): string =>
  `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1e3).toFixed(0).padStart(7)} ms`;

/** Self and inclusive time per function inside each phase of the run. */
function summarizeProfile(dir: string): void {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  for (const f of files) {
    const prof = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as {
      nodes: ProfileNode[];
      startTime: number;
      samples: number[];
      timeDeltas: number[];
    };
    const byId = new Map(prof.nodes.map((nd) => [nd.id, nd]));
    const parent = new Map<number, number>();
    for (const nd of prof.nodes) for (const c of nd.children ?? []) parent.set(c, nd.id);
    const name = (nd: ProfileNode): string => {
      const cf = nd.callFrame;
      const file = cf.url.replace(/^file:\/\//, '').replace(ROOT + '/', '');
      return file
        ? `${cf.functionName || '(anonymous)'}  ${file}:${cf.lineNumber + 1}`
        : cf.functionName;
    };
    for (const ph of phases) {
      const self = new Map<string, number>();
      const incl = new Map<string, number>();
      const area = new Map<string, number>();
      let total = 0;
      let t = prof.startTime;
      prof.samples.forEach((id, i) => {
        t += prof.timeDeltas[i] ?? 0;
        if (t < ph.from || t > ph.to) return;
        const nd = byId.get(id)!;
        if (nd.callFrame.functionName === '(idle)') return;
        const us = prof.timeDeltas[i] ?? 0;
        total += us;
        const k = name(nd);
        self.set(k, (self.get(k) ?? 0) + us);
        const url = nd.callFrame.url.replace(/^file:\/\//, '').replace(ROOT + '/', '');
        const ar = url
          ? (/^(?:dist\/)?(src\/[^/]+|protocol)(?:\/|$)/.exec(url)?.[1] ??
            (url.startsWith('node:') ? 'node internals' : url))
          : nd.callFrame.functionName;
        area.set(ar, (area.get(ar) ?? 0) + us);
        const seen = new Set<string>();
        for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
          const kk = name(byId.get(at)!);
          if (seen.has(kk) || kk === '(root)') continue;
          seen.add(kk);
          incl.set(kk, (incl.get(kk) ?? 0) + us);
        }
      });
      if (total === 0) continue;
      const top = (m: Map<string, number>, k: number) =>
        [...m].sort((a, b) => b[1] - a[1]).slice(0, k);
      console.log(
        `\npodbgp CPU profile, ${ph.name}: ${(total / 1e6).toFixed(2)} s busy (idle excluded)`,
      );
      console.log(' self time by area:');
      for (const [k, us] of top(area, 12)) console.log(`  ${pct(us, total)}  ${k}`);
      console.log(' self time:');
      for (const [k, us] of top(self, 25)) console.log(`  ${pct(us, total)}  ${k}`);
      console.log(' inclusive time:');
      for (const [k, us] of top(incl, 30)) console.log(`  ${pct(us, total)}  ${k}`);
    }
  }
}

// --- main -------------------------------------------------------------------------------

async function runSize(n: number): Promise<void> {
  const cleanup = new Cleanup();
  const onSignal = (): void => void cleanup.run().then(() => process.exit(130));
  process.once('SIGINT', onSignal);
  try {
    for (const ns of Object.values(NS)) await run('ip', ['netns', 'del', ns]);
    for (const ns of Object.values(NS)) await createNetns(cleanup, ns);
    await createVeth(
      cleanup,
      { ns: NS.feed, name: 'pbf-fp', addresses: [`${LINK.pod.feed}/24`] },
      { ns: NS.pod, name: 'pbf-pf', addresses: [`${LINK.pod.daemon}/24`] },
    );
    await createVeth(
      cleanup,
      { ns: NS.feed, name: 'pbf-fb', addresses: [`${LINK.bird.feed}/24`] },
      { ns: NS.bird, name: 'pbf-bf', addresses: [`${LINK.bird.daemon}/24`] },
    );
    // podbgp cannot start on a kernel table that does not exist yet (`ip route show table 200`
    // fails with "FIB table does not exist"): give the table one route that is not ours.
    // The same holds for IPv6, which podbgp reads too.
    for (const dst of ['198.18.255.255/32', '2001:db8:ffff::/128'])
      await runOk('ip', [
        '-n',
        NS.pod,
        'route',
        'add',
        'unreachable',
        dst,
        'table',
        String(KERNEL_TABLE),
      ]);
    const dir = await tempDir(cleanup, 'podbgp-full-table-');
    const targets: Target[] = [];
    let birdProc: ProcessHandle | null = null;
    let birdCtl: BirdCtl | null = null;
    void birdProc;
    if (only !== 'podbgp') {
      const bird = await startBird(cleanup, { ns: NS.bird, config: birdConfig() });
      birdProc = bird.process;
      birdCtl = await BirdCtl.open(bird.socket);
      cleanup.add('birdc connection', () => birdCtl?.close());
      targets.push({
        name: 'BIRD',
        ns: NS.bird,
        link: LINK.bird,
        pid: () => bird.process.pid,
        status: async () => {
          const out = await birdCtl!.command('show protocols all feeder');
          return { count: Number(/Routes:\s+(\d+) imported/.exec(out)?.[1] ?? 0) };
        },
      });
    }
    let pod: { t: Target; p: ProcessHandle } | null = null;
    if (only !== 'bird') {
      pod = await startPodbgp(cleanup, dir);
      targets.push(pod.t);
    }
    await sleep(2000);
    const res: Partial<Record<'BIRD' | 'podbgp', Figures>> = {};
    for (const t of targets) res[t.name] = await measure(cleanup, t, n);
    report(n, res);
    if (pod && daemonLog) writeFileSync(daemonLog, pod.p.output());
    if (pod && cpuProfDir) {
      await pod.p.stop('SIGTERM');
      summarizeProfile(cpuProfDir);
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    const errors = await cleanup.run();
    for (const e of errors) console.error(e.message);
  }
}

async function main(): Promise<void> {
  if (!isRoot()) throw new Error('bench/full-table.ts needs root (network namespaces)');
  const missing = await missingReason('bird');
  if (missing && only !== 'podbgp') throw new Error(missing);
  if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
  const model = await runOk('sh', ['-c', "lscpu | grep 'Model name' || true"]);
  console.log(`bench/full-table.ts  ${new Date().toISOString()}  node ${process.version}`);
  console.log(
    `nproc ${os.cpus().length}, ${model.trim().replace(/\s+/g, ' ')}, RAM ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  console.log(
    `BIRD ${only === 'podbgp' ? '-' : await versionOf('bird')}; podbgp from ${useTsx ? 'src (tsx)' : 'dist (npm run build)'} with node ${nodeFlags.join(' ') || '(no flags)'}; kernel table ${KERNEL_TABLE} for podbgp, no kernel protocol in BIRD`,
  );
  for (const n of sizes) await runSize(n);
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
