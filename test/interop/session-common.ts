// Shared interop scenario for the session layer: starts the speaker harness (one podbgp Session)
// in one namespace and a real daemon in another, and checks issue #3 points 1-6 through an
// adapter per daemon. Test code only; never imported by src/. RFC 4271 §4.2, §6.5, §8;
// RFC 4724; RFC 4486 / RFC 9003 (Cease); RFC 6793 (4-octet AS); RFC 1997; RFC 8092.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { Test } from 'tap';
import {
  Cleanup,
  connect,
  makeNode,
  missingReason,
  runOk,
  sleep,
  waitFor,
  type DaemonName,
  type Link,
  type LinkEnd,
  type ProcessHandle,
} from './lib/index.js';
import type { AnnounceAttributes, RibRoute, SpeakerConfig } from './speaker.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..', '..');

// --- the plan every daemon is tested against ----------------------------------------------

/** RFC 6793: both ends use 4-octet ASNs, so My AS carries AS_TRANS and the capability the ASN. */
export const PODBGP_ASN = 4200000001;
export const DAEMON_ASN = 4200000002;
export const AS_TRANS = 23456;

/** What the daemon announces: kept routes, and routes it withdraws in the withdrawal step. */
export const DAEMON_ROUTES = {
  keep: ['198.51.100.0/24', '2001:db8:100::/48'],
  withdraw: ['198.51.101.0/24', '2001:db8:101::/48'],
  med: 50,
  communities: ['65010:100', '65010:200'],
  largeCommunities: [`${DAEMON_ASN}:1:2`],
};

/** What podbgp announces. */
export const PODBGP_ROUTES = {
  keep: ['10.99.0.0/24', '2001:db8:99::/48'],
  withdraw: ['10.99.1.0/24', '2001:db8:98::/48'],
  attributes: {
    med: 77,
    communities: ['65001:100'],
    largeCommunities: [`${PODBGP_ASN}:7:8`],
  } satisfies AnnounceAttributes,
};

// --- the speaker harness client ----------------------------------------------------------

export interface SpeakerEvent {
  event: string;
  at: number;
  [k: string]: unknown;
}

export interface SpeakerState extends SpeakerEvent {
  state: string;
  negotiated: NegotiatedJson | null;
  lastNotification: NotificationJson | null;
  rib: RibRoute[];
  connection: { localPort: number; remotePort: number } | null;
}

export interface NegotiatedJson {
  peerAsn: number;
  peerRouterId: string;
  holdTime: number;
  as4: boolean;
  families: string[];
  routeRefresh: boolean;
  enhancedRouteRefresh: boolean;
  gracefulRestart: {
    restartTime: number;
    /** RFC 8538: both sides set the N bit. */
    notification?: boolean;
    families: { family: string; forwarding: boolean }[];
  } | null;
}

export interface NotificationJson {
  direction: 'sent' | 'received';
  code: number;
  subcode: number;
  name: string;
  message?: string;
}

export class SpeakerProc {
  readonly events: SpeakerEvent[] = [];
  private stderr = '';
  private exited = false;

  constructor(readonly child: ChildProcess) {
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('{')) this.events.push(JSON.parse(line) as SpeakerEvent);
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-20000);
    });
    child.on('exit', () => (this.exited = true));
  }

  get output(): string {
    return this.stderr;
  }

  send(cmd: Record<string, unknown>): void {
    this.child.stdin!.write(`${JSON.stringify(cmd)}\n`);
  }

  /** Waits for an event after index `from` satisfying `match`. */
  async waitEvent(
    match: (e: SpeakerEvent) => boolean,
    opts: { from?: number; timeoutMs?: number; what?: string } = {},
  ): Promise<SpeakerEvent> {
    return waitFor(
      () => {
        if (this.exited) throw new Error(`speaker exited: ${this.stderr.slice(-2000)}`);
        return this.events.slice(opts.from ?? 0).find(match);
      },
      { timeoutMs: opts.timeoutMs ?? 30_000, intervalMs: 50, what: opts.what ?? 'speaker event' },
    );
  }

  async state(): Promise<SpeakerState> {
    const from = this.events.length;
    this.send({ cmd: 'state' });
    return (await this.waitEvent((e) => e.event === 'state', {
      from,
      what: 'state',
    })) as SpeakerState;
  }

  /** Polls the harness state until `cond` holds. */
  async until(
    what: string,
    cond: (s: SpeakerState) => boolean,
    timeoutMs = 30_000,
  ): Promise<SpeakerState> {
    let last: SpeakerState | undefined;
    return waitFor(
      async () => {
        last = await this.state();
        return cond(last) ? last : undefined;
      },
      { timeoutMs, intervalMs: 200, what },
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last state ${JSON.stringify(last)?.slice(0, 1500)}`);
    });
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    this.send({ cmd: 'exit' });
    const done = new Promise<void>((r) => this.child.once('exit', () => r()));
    const t = await Promise.race([done.then(() => true), sleep(3000).then(() => false)]);
    if (!t && !this.exited) this.child.kill('SIGKILL');
  }
}

/** Starts the harness in `ns` and waits until its listener is up. */
export async function startSpeaker(
  cleanup: Cleanup,
  ns: string,
  config: SpeakerConfig,
): Promise<SpeakerProc> {
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      ns,
      process.execPath,
      '--import',
      'tsx',
      join(HERE, 'speaker.ts'),
      JSON.stringify(config),
    ],
    { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  child.stdin!.on('error', () => undefined);
  const sp = new SpeakerProc(child);
  cleanup.add('speaker', () => sp.stop());
  await sp.waitEvent((e) => e.event === 'ready' || e.event === 'error', {
    what: 'speaker ready',
  });
  const err = sp.events.find((e) => e.event === 'error');
  if (err) throw new Error(`speaker failed: ${String(err.message)}`);
  return sp;
}

// --- the daemon adapters ------------------------------------------------------------------

/** A route as the daemon's CLI shows it, in one normal form. */
export interface CliRoute {
  prefix: string;
  nextHop: string;
  asPath: number[];
  med?: number;
  communities: string[];
  largeCommunities: string[];
}

export interface DaemonStartOptions {
  ns: string;
  /** The daemon's end of the link. */
  self: LinkEnd;
  /** podbgp's end of the link. */
  peer: LinkEnd;
  /** The daemon only listens (podbgp connects). */
  passive: boolean;
  holdTime: number;
  /** Advertise graceful restart (default true). */
  gracefulRestart?: boolean;
}

export interface DaemonDriver {
  process: ProcessHandle;
  waitEstablished(timeoutMs?: number): Promise<void>;
  isEstablished(): Promise<boolean>;
  /** Routes received from podbgp, per the daemon's own CLI. */
  routes(): Promise<CliRoute[]>;
  /** The daemon stops announcing these of its own prefixes. */
  withdraw(prefixes: string[]): Promise<void>;
  /** Admin shutdown of the podbgp neighbor (Cease / Administrative Shutdown). */
  shutdown(message: string): Promise<void>;
  enable(): Promise<void>;
  /** The last NOTIFICATION the daemon received from podbgp, as its CLI or log reports it. */
  receivedNotification(): Promise<{ code: number; subcode: number; message?: string } | undefined>;
  /** The next hop the daemon says it sends for one of its prefixes, where it differs from its link address. */
  advertisedNextHop?(prefix: string): Promise<string | undefined>;
  /** Sends SIGSTOP/SIGCONT to every process of the daemon (default: its main process). */
  signal?(sig: 'SIGSTOP' | 'SIGCONT'): Promise<void>;
  /** Capabilities the daemon reports as negotiated with podbgp, where its CLI shows them. */
  negotiatedCapabilities?(): Promise<Record<string, boolean>>;
}

export interface DaemonAdapter {
  name: DaemonName;
  /** Namespace prefix (`pbs-` + 2 letters). */
  prefix: string;
  start(cleanup: Cleanup, o: DaemonStartOptions): Promise<DaemonDriver>;
}

// --- helpers --------------------------------------------------------------------------------

export function isV6(prefix: string): boolean {
  return prefix.includes(':');
}

/** Two namespaces (podbgp in a, the daemon in b) joined by a veth with IPv4 and IPv6. */
export async function topology(cleanup: Cleanup, prefix: string): Promise<Link> {
  const a = await makeNode(cleanup, `${prefix}p`);
  const b = await makeNode(cleanup, `${prefix}d`);
  return connect(cleanup, a, b, 0, prefix);
}

export function speakerConfig(link: Link, extra: Partial<SpeakerConfig> = {}): SpeakerConfig {
  return {
    asn: PODBGP_ASN,
    routerId: link.a.v4,
    localAddress: link.a.v4,
    localAddress6: link.a.v6,
    peerAddress: link.b.v4,
    peerAsn: DAEMON_ASN,
    holdTime: 9,
    gracefulRestartTime: 120,
    ...extra,
  };
}

/** Normalises "a.b.c.d/n" and IPv6 prefixes the way the harness prints them. */
export function sameRoutes(a: readonly string[], b: readonly string[]): boolean {
  const x = [...a].sort();
  const y = [...b].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** Signals every process named `comm` inside namespace `ns` (multi-process daemons). */
export async function signalAll(ns: string, comm: string, sig: NodeJS.Signals): Promise<number> {
  const pids = (await runOk('ip', ['netns', 'pids', ns])).split(/\s+/).filter(Boolean);
  let n = 0;
  for (const pid of pids) {
    const name = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
    if (name !== comm) continue;
    try {
      process.kill(Number(pid), sig);
      n += 1;
    } catch {
      // gone meanwhile
    }
  }
  return n;
}

/** The TCP connection's ports as seen from podbgp's namespace (`ss`): who dialed whom. */
export async function podbgpConnection(
  ns: string,
  peer: string,
): Promise<{ localPort: number; remotePort: number } | undefined> {
  const out = await runOk('ss', ['-tnH', 'state', 'established', 'dst', peer], { ns });
  const line = out.trim().split('\n').filter(Boolean)[0];
  if (!line) return undefined;
  const cols = line.trim().split(/\s+/);
  const local = cols.at(-2) ?? '';
  const remote = cols.at(-1) ?? '';
  return {
    localPort: Number(local.slice(local.lastIndexOf(':') + 1)),
    remotePort: Number(remote.slice(remote.lastIndexOf(':') + 1)),
  };
}

// --- the scenario ---------------------------------------------------------------------------

async function checkDaemonRoutesAtPodbgp(
  t: Test,
  rib: RibRoute[],
  link: Link,
  prefixes: string[],
  daemon: DaemonDriver,
): Promise<void> {
  for (const p of prefixes) {
    const r = rib.find((x) => x.prefix === p);
    if (!t.ok(r, `podbgp received ${p}`) || !r) continue;
    const a = r.attributes as {
      asPath?: { type: string; asns: number[] }[];
      med?: number;
      communities?: string[];
      largeCommunities?: string[];
    };
    t.same(
      a.asPath?.flatMap((s) => s.asns),
      [DAEMON_ASN],
      `${p}: AS_PATH is the daemon's 4-octet ASN`,
    );
    t.equal(a.med, DAEMON_ROUTES.med, `${p}: MED from the daemon's config`);
    t.same(
      [...(a.communities ?? [])].sort(),
      [...DAEMON_ROUTES.communities].sort(),
      `${p}: communities`,
    );
    t.same(a.largeCommunities, DAEMON_ROUTES.largeCommunities, `${p}: large communities`);
    const sent = daemon.advertisedNextHop ? await daemon.advertisedNextHop(p) : undefined;
    if (sent !== undefined) {
      t.equal(r.nextHops[0], sent, `${p}: next hop is the one the daemon's Adj-RIB-Out shows`);
    } else if (isV6(p)) {
      t.ok(
        r.nextHops.includes(link.b.v6),
        `${p}: MP_REACH next hop ${r.nextHops.join(' ')} has ${link.b.v6}`,
      );
    } else {
      t.same(r.nextHops, [link.b.v4], `${p}: NEXT_HOP is the daemon's address`);
    }
  }
}

function checkPodbgpRoutesAtDaemon(
  t: Test,
  routes: CliRoute[],
  link: Link,
  prefixes: string[],
): void {
  for (const p of prefixes) {
    const r = routes.find((x) => x.prefix === p);
    if (!t.ok(r, `the daemon's CLI shows ${p}`) || !r) continue;
    t.same(r.asPath, [PODBGP_ASN], `${p}: AS path ${PODBGP_ASN}`);
    t.equal(r.med, PODBGP_ROUTES.attributes.med, `${p}: MED`);
    t.same(r.communities, PODBGP_ROUTES.attributes.communities, `${p}: communities`);
    t.same(
      r.largeCommunities,
      PODBGP_ROUTES.attributes.largeCommunities,
      `${p}: large communities`,
    );
    t.equal(r.nextHop, isV6(p) ? link.a.v6 : link.a.v4, `${p}: next hop`);
  }
}

/** Issue #3 point 2, from podbgp's side (and the daemon's where its CLI reports it). */
function checkNegotiated(t: Test, n: NegotiatedJson | null, holdTime: number): void {
  if (!t.ok(n, 'negotiated result reported')) return;
  t.equal(n!.peerAsn, DAEMON_ASN, 'peer ASN is the 4-octet ASN (RFC 6793)');
  t.equal(n!.as4, true, '4-octet AS capability on both sides');
  t.same([...n!.families].sort(), ['ipv4-unicast', 'ipv6-unicast'], 'IPv4 and IPv6 unicast');
  t.equal(n!.routeRefresh, true, 'route refresh negotiated');
  t.ok(n!.gracefulRestart, 'peer advertised graceful restart');
  t.equal(n!.holdTime, holdTime, `hold time is the lower of the two (${holdTime} s)`);
}

export interface SuiteOptions {
  /** Extra checks after the main scenario while the session is up (ExaBGP: malformed UPDATEs). */
  extra?: (t: Test, ctx: ScenarioContext) => Promise<void>;
  /** Skip the daemon-side admin shutdown (point 5b) when the daemon cannot do it (explained). */
  noDaemonShutdown?: string;
  /** The RFC 9003 message podbgp sends with its admin shutdown (default 'podbgp maintenance'). */
  shutdownMessage?: string;
}

export interface ScenarioContext {
  cleanup: Cleanup;
  link: Link;
  speaker: SpeakerProc;
  daemon: DaemonDriver;
}

async function establish(
  t: Test,
  speaker: SpeakerProc,
  daemon: DaemonDriver,
  from = 0,
  start = true,
): Promise<SpeakerEvent> {
  if (start) speaker.send({ cmd: 'start' });
  const ev = await speaker.waitEvent((e) => e.event === 'established', {
    from,
    timeoutMs: 60_000,
    what: 'podbgp Established',
  });
  await daemon.waitEstablished(30_000);
  t.pass('both sides report Established');
  return ev;
}

/** Runs issue #3 points 1-6 against one daemon (one test per connection direction). */
export async function daemonSuite(
  t: Test,
  adapter: DaemonAdapter,
  opts: SuiteOptions = {},
): Promise<void> {
  // A missing daemon skips with the reason naming it (binary and Debian package).
  const skip = (await missingReason(adapter.name)) ?? false;
  t.test(`${adapter.name}: podbgp passive, ${adapter.name} active`, { skip }, async (t) => {
    const cleanup = new Cleanup();
    t.teardown(() => cleanup.run());
    const link = await topology(cleanup, adapter.prefix);
    // podbgp listens first, so the daemon's first connection attempt finds it ready.
    const speaker = await startSpeaker(cleanup, link.a.ns, speakerConfig(link, { passive: true }));
    speaker.send({
      cmd: 'announce',
      prefixes: PODBGP_ROUTES.keep,
      attributes: PODBGP_ROUTES.attributes,
    });
    speaker.send({ cmd: 'start' });
    const daemon = await adapter.start(cleanup, {
      ns: link.b.ns,
      self: link.b,
      peer: link.a,
      passive: false,
      holdTime: 9,
    });
    const ev = await establish(t, speaker, daemon, 0, false);
    const conn = await podbgpConnection(link.a.ns, link.b.v4);
    t.equal(conn?.localPort, 179, `${adapter.name} dialed podbgp's port 179 (podbgp passive)`);
    checkNegotiated(t, ev.negotiated as NegotiatedJson, 9);
    const s = await speaker.until('daemon routes at podbgp', (s) =>
      [...DAEMON_ROUTES.keep, ...DAEMON_ROUTES.withdraw].every((p) =>
        s.rib.some((r) => r.prefix === p),
      ),
    );
    await checkDaemonRoutesAtPodbgp(t, s.rib, link, DAEMON_ROUTES.keep, daemon);
    const routes = await waitFor(
      async () => {
        const r = await daemon.routes();
        return PODBGP_ROUTES.keep.every((p) => r.some((x) => x.prefix === p)) ? r : undefined;
      },
      { timeoutMs: 20_000, what: `${adapter.name} to show podbgp's routes` },
    );
    checkPodbgpRoutesAtDaemon(t, routes, link, PODBGP_ROUTES.keep);
  });

  t.test(`${adapter.name}: podbgp active, ${adapter.name} passive`, { skip }, async (t) => {
    const cleanup = new Cleanup();
    t.teardown(() => cleanup.run());
    const link = await topology(cleanup, adapter.prefix);
    const daemon = await adapter.start(cleanup, {
      ns: link.b.ns,
      self: link.b,
      peer: link.a,
      passive: true,
      holdTime: 9,
    });
    const HOLD = 3;
    const speaker = await startSpeaker(
      cleanup,
      link.a.ns,
      speakerConfig(link, { passive: false, holdTime: HOLD, listenPort: 1179 }),
    );
    const all = [...PODBGP_ROUTES.keep, ...PODBGP_ROUTES.withdraw];
    speaker.send({ cmd: 'announce', prefixes: all, attributes: PODBGP_ROUTES.attributes });

    // 1. Established, podbgp active.
    const ev = await establish(t, speaker, daemon);
    const conn = await podbgpConnection(link.a.ns, link.b.v4);
    t.equal(conn?.remotePort, 179, `podbgp dialed ${adapter.name}'s port 179 (podbgp active)`);

    // 2. Capabilities (negotiated hold time: the lower of podbgp's 3 and the daemon's 9).
    checkNegotiated(t, ev.negotiated as NegotiatedJson, HOLD);
    if (daemon.negotiatedCapabilities) {
      const caps = await daemon.negotiatedCapabilities();
      for (const [name, ok] of Object.entries(caps)) t.ok(ok, `${adapter.name} reports ${name}`);
    }

    // 3. Routes both ways.
    const daemonAll = [...DAEMON_ROUTES.keep, ...DAEMON_ROUTES.withdraw];
    let s = await speaker.until('daemon routes at podbgp', (s) =>
      daemonAll.every((p) => s.rib.some((r) => r.prefix === p)),
    );
    await checkDaemonRoutesAtPodbgp(t, s.rib, link, daemonAll, daemon);
    let routes = await waitFor(
      async () => {
        const r = await daemon.routes();
        return all.every((p) => r.some((x) => x.prefix === p)) ? r : undefined;
      },
      { timeoutMs: 20_000, what: `${adapter.name} to show podbgp's routes` },
    );
    checkPodbgpRoutesAtDaemon(t, routes, link, all);

    // 4. Withdrawals both ways.
    await daemon.withdraw(DAEMON_ROUTES.withdraw);
    s = await speaker.until('daemon withdrawal seen by podbgp', (s) =>
      DAEMON_ROUTES.withdraw.every((p) => !s.rib.some((r) => r.prefix === p)),
    );
    t.ok(
      DAEMON_ROUTES.keep.every((p) => s.rib.some((r) => r.prefix === p)),
      'the other daemon routes stay',
    );
    speaker.send({ cmd: 'withdraw', prefixes: PODBGP_ROUTES.withdraw });
    routes = await waitFor(
      async () => {
        const r = await daemon.routes();
        return PODBGP_ROUTES.withdraw.every((p) => !r.some((x) => x.prefix === p)) ? r : undefined;
      },
      { timeoutMs: 20_000, what: `${adapter.name} to drop podbgp's withdrawn routes` },
    );
    t.ok(
      PODBGP_ROUTES.keep.every((p) => routes.some((x) => x.prefix === p)),
      `${adapter.name} keeps podbgp's other routes`,
    );

    if (opts.extra) await opts.extra(t, { cleanup, link, speaker, daemon });

    // 5a. podbgp admin shutdown: Cease / Administrative Shutdown with a message (RFC 9003).
    // RFC 8538 §5: with the N bit negotiated it goes out wrapped in Cease / Hard Reset (9),
    // so the peer drops podbgp's routes at once instead of keeping them as stale.
    const nBit = (ev.negotiated as NegotiatedJson).gracefulRestart?.notification === true;
    const ceaseSubcode = nBit ? 9 : 2;
    let mark = speaker.events.length;
    const shutdownMessage = opts.shutdownMessage ?? 'podbgp maintenance';
    speaker.send({ cmd: 'stop', message: shutdownMessage });
    const down = await speaker.waitEvent((e) => e.event === 'down', { from: mark, what: 'down' });
    const sent = (down.info as { notification?: NotificationJson }).notification;
    t.same(
      [sent?.direction, sent?.code, sent?.subcode],
      ['sent', 6, ceaseSubcode],
      `podbgp sent Cease/${nBit ? 'Hard Reset' : 'Admin Shutdown'}`,
    );
    // The daemon may still report an older NOTIFICATION (point 7) until it processes this one.
    // A daemon that understands RFC 8538 may report the Hard Reset or, unwrapped, the
    // Administrative Shutdown it encapsulates (FRR does the latter).
    const accepted = nBit ? [9, 2] : [2];
    let got: Awaited<ReturnType<DaemonDriver['receivedNotification']>>;
    await waitFor(
      async () => {
        got = await daemon.receivedNotification();
        return got?.code === 6 && accepted.includes(got.subcode);
      },
      { timeoutMs: 20_000, what: `${adapter.name} to report the NOTIFICATION` },
    ).catch(() => undefined);
    t.equal(got?.code, 6, `${adapter.name} decoded a Cease`);
    t.ok(
      got !== undefined && accepted.includes(got.subcode),
      `${adapter.name} reports subcode ${got?.subcode}, one of ${accepted.join('/')}`,
    );
    if (got?.message !== undefined) t.equal(got.message, shutdownMessage, 'shutdown communication');
    const gone = await waitFor(
      async () => !(await daemon.routes()).some((r) => all.includes(r.prefix)),
      { timeoutMs: 20_000, what: `${adapter.name} to drop podbgp's routes` },
    ).catch(() => false);
    t.ok(gone, `${adapter.name} dropped podbgp's routes after the admin shutdown`);

    // Back up again.
    mark = speaker.events.length;
    await establish(t, speaker, daemon, mark);

    // 5b. Daemon admin shutdown: podbgp decodes the Cease.
    if (opts.noDaemonShutdown) {
      t.pass(`${adapter.name} admin shutdown`, { skip: opts.noDaemonShutdown });
    } else {
      mark = speaker.events.length;
      const shutAt = Date.now();
      await daemon.shutdown('daemon maintenance');
      const d = await speaker.waitEvent((e) => e.event === 'down', { from: mark, what: 'down' });
      // Only a NOTIFICATION of this session counts (DownInfo may carry an older one: see report).
      const raw = (d.info as { notification?: NotificationJson & { at: number } }).notification;
      const n = raw && raw.at >= shutAt - 1000 ? raw : undefined;
      // RFC 8538 §5: with the N bit negotiated, Administrative Shutdown is sent wrapped in a
      // Cease / Hard Reset (subcode 9); without it, as Cease / Administrative Shutdown (2).
      const expect = nBit ? [9, /hard reset/i] : [2, /administrative shutdown/i];
      t.same(
        [n?.direction, n?.code, n?.subcode],
        ['received', 6, expect[0]],
        `podbgp decoded the Cease (N bit ${nBit ? 'on' : 'off'})`,
      );
      t.match(n?.name ?? '', expect[1], `named: ${n?.name}`);
      if (n?.message !== undefined)
        t.equal(n.message, 'daemon maintenance', 'RFC 9003 message decoded');
      t.equal((await speaker.state()).rib.length, 0, 'routes released');
      mark = speaker.events.length;
      await daemon.enable();
      await speaker.waitEvent((e) => e.event === 'established', {
        from: mark,
        timeoutMs: 60_000,
        what: 're-established after enable',
      });
      await daemon.waitEstablished(30_000);
      await speaker.until('routes back', (s) =>
        s.rib.some((r) => r.prefix === DAEMON_ROUTES.keep[0]),
      );
    }

    // 6. Hold timer: freeze the daemon; podbgp sends Hold Timer Expired within the hold time.
    const before = await speaker.state();
    t.equal(before.negotiated?.holdTime, HOLD, `negotiated hold time ${HOLD} s`);
    t.ok(before.rib.length > 0, 'routes present before the freeze');
    mark = speaker.events.length;
    const frozenAt = Date.now();
    const signal = (sig: 'SIGSTOP' | 'SIGCONT'): Promise<void> =>
      daemon.signal ? daemon.signal(sig) : Promise.resolve(daemon.process.signal(sig));
    await signal('SIGSTOP');
    let resumed = false;
    cleanup.add('SIGCONT', async () => {
      if (!resumed) await signal('SIGCONT');
    });
    const hd = await speaker.waitEvent((e) => e.event === 'down', {
      from: mark,
      timeoutMs: (HOLD + 10) * 1000,
      what: 'hold timer expiry',
    });
    const elapsed = (hd.at - frozenAt) / 1000;
    const hn = (hd.info as { notification?: NotificationJson }).notification;
    t.same(
      [hn?.direction, hn?.code, hn?.subcode],
      ['sent', 4, 0],
      'podbgp sent Hold Timer Expired',
    );
    // The last KEEPALIVE arrived at most one keepalive interval before the freeze; allow 1.5 s
    // for a loaded CI machine.
    t.ok(
      elapsed <= HOLD + 1.5,
      `expired ${elapsed.toFixed(2)} s after the freeze (hold ${HOLD} s)`,
    );
    t.equal(hd.released, before.rib.length, 'every route of the session released');
    t.equal((await speaker.state()).rib.length, 0, 'Adj-RIB-In empty while down');
    mark = speaker.events.length;
    await signal('SIGCONT');
    resumed = true;
    await speaker.waitEvent((e) => e.event === 'established', {
      from: mark,
      timeoutMs: 90_000,
      what: 'session back after SIGCONT',
    });
    await daemon.waitEstablished(30_000);
    await speaker.until('routes back after SIGCONT', (s) =>
      DAEMON_ROUTES.keep.every((p) => s.rib.some((r) => r.prefix === p)),
    );
    t.pass('session and routes came back after SIGCONT');
  });
}
