// Session benchmarks (figures, not a test): (a) time from TCP connect to Established against
// BIRD 2 across a veth between two namespaces; (b) CPU and RSS of one process holding N
// sessions (default 200) with a 3 s hold time against small scripted speakers on 127.0.0.0/8.
// RFC 4271 §4.2, §4.4 (hold time, keepalives every hold/3), §8.
//
// Usage (root for part a):
//   node --import tsx bench/sessions.ts [--runs 11] [--peers 200] [--measure 30] [--skip-bird]
// Internal roles: --role daemon|peers (spawned by the bench itself).

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { Framer } from '../protocol/framer.js';
import { encodeMessage } from '../protocol/message.js';
import { DEFAULT_CONTEXT, type OpenMessage } from '../protocol/types.js';
import { Listener } from '../src/session/listener.js';
import { Session, type SessionHandler } from '../src/session/session.js';
import { systemClock } from '../src/session/timers.js';

const SELF = fileURLToPath(import.meta.url);
const PORT = 17900;
const DAEMON_ASN = 4200000001;
const PEER_ASN = 4200000100;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** 127.1.x.y for peer i (1-based), never 127.0.0.1 (the daemon). */
function peerAddress(i: number): string {
  return `127.1.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

// --- role: daemon (the process measured) ----------------------------------------------------

function roleDaemon(): void {
  const n = arg('peers', 200);
  const log = pino({ level: 'silent' });
  let established = 0;
  const sessions = new Map<string, Session>();
  const handler: SessionHandler = {
    established: () => {
      established += 1;
      if (established === n)
        process.stdout.write(`${JSON.stringify({ allEstablished: Date.now() })}\n`);
    },
    update: () => undefined,
    routeRefresh: () => undefined,
    down: () => {
      established -= 1;
      process.stdout.write(`${JSON.stringify({ down: Date.now() })}\n`);
    },
  };
  for (let i = 0; i < n; i++) {
    const peer = peerAddress(i);
    const s = new Session(
      {
        peerAddress: peer,
        peerPort: PORT,
        peerAsn: PEER_ASN,
        localAddress: '127.0.0.1',
        passive: false,
        maxPrefixRestart: 60,
        fsm: { connectRetryTime: 2, idleHoldTime: 1 },
        local: {
          asn: DAEMON_ASN,
          routerId: '10.255.0.1',
          holdTime: 3,
          families: ['ipv4-unicast', 'ipv6-unicast'],
          extendedMessage: false,
          extendedNextHop: false,
          gracefulRestart: { restartTime: 120, restarting: false, forwarding: true },
        },
      },
      handler,
      { clock: systemClock, dial: (o) => net.connect(o), log },
    );
    sessions.set(peer, s);
  }
  const listener = new Listener(
    { address: '127.0.0.1', port: PORT },
    (remote, socket) => {
      const s = sessions.get(remote);
      if (!s) return false;
      s.acceptIncoming(socket);
      return true;
    },
    log,
  );
  void listener.listen().then(() => {
    for (const s of sessions.values()) s.start();
    process.stdout.write(`${JSON.stringify({ ready: Date.now() })}\n`);
  });
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

// --- role: peers (the scripted speakers) ----------------------------------------------------

function roleSpeakers(): void {
  const n = arg('peers', 200);
  const keepalive = encodeMessage({ type: 'keepalive' }, DEFAULT_CONTEXT);
  let listening = 0;
  for (let i = 0; i < n; i++) {
    const address = peerAddress(i);
    const open: OpenMessage = {
      type: 'open',
      version: 4,
      myAs: 23456,
      holdTime: 3,
      routerId: address.replace(/^127\./, '10.'),
      capabilities: [
        { name: 'multiprotocol', code: 1, afi: 1, safi: 1 },
        { name: 'multiprotocol', code: 1, afi: 2, safi: 1 },
        { name: 'route-refresh', code: 2 },
        { name: 'four-octet-as', code: 65, asn: PEER_ASN },
      ],
    };
    const server = net.createServer((sock) => {
      const framer = new Framer();
      let timer: NodeJS.Timeout | null = null;
      sock.setNoDelay(true);
      sock.on('error', () => undefined);
      sock.on('close', () => timer && clearInterval(timer));
      sock.on('data', (chunk) => {
        try {
          for (const f of framer.push(chunk)) {
            // RFC 4271 §4.1: the type octet follows the marker and length.
            if (f[18] === 1) {
              sock.write(encodeMessage(open, DEFAULT_CONTEXT));
              sock.write(keepalive);
              // RFC 4271 §4.4: keepalives at one third of the hold time.
              timer = setInterval(() => sock.write(keepalive), 1000);
            }
          }
        } catch {
          sock.destroy();
        }
      });
    });
    server.listen(PORT, address, () => {
      listening += 1;
      if (listening === n) process.stdout.write(`${JSON.stringify({ ready: Date.now() })}\n`);
    });
  }
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

// --- the parent: runs both parts and prints figures -----------------------------------------

function child(
  role: string,
  extra: string[],
): { proc: ChildProcess; lines: Record<string, number>[] } {
  const proc = spawn(process.execPath, ['--import', 'tsx', SELF, '--role', role, ...extra], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: Record<string, number>[] = [];
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    if (l.startsWith('{')) lines.push(JSON.parse(l) as Record<string, number>);
  });
  return { proc, lines };
}

async function until<T>(what: string, f: () => T | undefined, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of /proc/PID/stat (index 11 and 12 after the name).
  return Number(fields[11]) + Number(fields[12]);
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function benchSessions(n: number, measureSeconds: number): Promise<void> {
  const peers = child('peers', ['--peers', String(n)]);
  try {
    await until('peers listening', () => peers.lines.find((l) => l.ready), 60_000);
    const daemon = child('daemon', ['--peers', String(n)]);
    try {
      const t0 = Date.now();
      const all = await until(
        'all Established',
        () => daemon.lines.find((l) => l.allEstablished),
        120_000,
      );
      console.log(
        `(b) ${n} sessions Established in ${((all.allEstablished - t0) / 1000).toFixed(1)} s`,
      );
      await new Promise((r) => setTimeout(r, 5000)); // settle
      const hz = 100; // USER_HZ on Linux
      const pid = daemon.proc.pid!;
      const c0 = cpuTicks(pid);
      const w0 = Date.now();
      const rss: number[] = [];
      while (Date.now() - w0 < measureSeconds * 1000) {
        await new Promise((r) => setTimeout(r, 1000));
        rss.push(rssKiB(pid));
      }
      const cpu = (cpuTicks(pid) - c0) / hz / ((Date.now() - w0) / 1000);
      const downs = daemon.lines.filter((l) => l.down).length;
      console.log(
        `(b) steady state over ${measureSeconds} s: CPU ${(cpu * 100).toFixed(2)} % of one core, ` +
          `RSS ${(median(rss) / 1024).toFixed(1)} MiB (max ${(Math.max(...rss) / 1024).toFixed(1)} MiB), ` +
          `session drops ${downs}`,
      );
    } finally {
      daemon.proc.stdin!.end();
      daemon.proc.kill('SIGTERM');
    }
  } finally {
    peers.proc.stdin!.end();
    peers.proc.kill('SIGTERM');
  }
}

async function benchBird(runs: number): Promise<void> {
  const lib = await import('../test/interop/lib/index.js');
  const common = await import('../test/interop/session-common.js');
  const missing = await lib.missingReason('bird');
  if (missing) {
    console.log(`(a) skipped: ${missing}`);
    return;
  }
  const cleanup = new lib.Cleanup();
  try {
    const link = await common.topology(cleanup, 'pbs-bn');
    const config = [
      `router id ${link.b.v4};`,
      'protocol device {}',
      'protocol bgp pb {',
      `  local ${link.b.v4} as ${common.DAEMON_ASN};`,
      `  neighbor ${link.a.v4} as ${common.PODBGP_ASN};`,
      '  passive on; error wait time 1, 1; connect delay time 1;',
      '  ipv4 { import all; export none; };',
      '  ipv6 { import all; export none; };',
      '}',
      '',
    ].join('\n');
    const bird = await lib.startBird(cleanup, { ns: link.b.ns, config });
    const sp = await common.startSpeaker(
      cleanup,
      link.a.ns,
      common.speakerConfig(link, { listenPort: 1179, idleHoldTime: 0.2, connectRetryTime: 1 }),
    );
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const mark = sp.events.length;
      sp.send({ cmd: 'start' });
      const ev = await sp.waitEvent((e) => e.event === 'established', {
        from: mark,
        timeoutMs: 60_000,
      });
      times.push(ev.connectToEstablishedMs as number);
      const m2 = sp.events.length;
      sp.send({ cmd: 'stop', message: '' });
      await sp.waitEvent((e) => e.event === 'down', { from: m2 });
      // BIRD sits out its error wait time before it accepts again.
      await lib.waitFor(async () => !(await bird.isEstablished('pb')), { timeoutMs: 10_000 });
      await new Promise((r) => setTimeout(r, 1200));
    }
    console.log(
      `(a) TCP connect -> Established against BIRD ${await bird.version()} over a veth, ${runs} runs: ` +
        `median ${median(times).toFixed(2)} ms, min ${Math.min(...times).toFixed(2)} ms, max ${Math.max(...times).toFixed(2)} ms`,
    );
  } finally {
    await cleanup.run();
  }
}

async function main(): Promise<void> {
  const role = process.argv[process.argv.indexOf('--role') + 1];
  if (process.argv.includes('--role')) {
    if (role === 'daemon') return roleDaemon();
    if (role === 'peers') return roleSpeakers();
    throw new Error(`unknown role ${role}`);
  }
  const cpus = os.cpus();
  console.log(
    `machine: ${cpus.length} CPU(s), ${cpus[0]?.model ?? 'unknown'}; node ${process.version}; ${new Date().toISOString()}`,
  );
  if (!process.argv.includes('--skip-bird')) await benchBird(arg('runs', 11));
  await benchSessions(arg('peers', 200), arg('measure', 30));
}

void main().then(
  () => {
    if (!process.argv.includes('--role')) process.exit(0);
  },
  (err: Error) => {
    console.error(err);
    process.exit(1);
  },
);
