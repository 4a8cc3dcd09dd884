// Interop test harness (not the daemon): one podbgp Session plus its Listener in one process,
// driven by JSON lines on stdin and reporting JSON lines on stdout. It must not hold routing
// logic beyond a tiny Adj-RIB-In/Out for assertions. RFC 4271 §9 (only as far as a test needs).
//
// Usage: ip netns exec NS node --import tsx test/interop/speaker.ts '<config json>'
// Commands (one JSON object a line):
//   {"cmd":"start"} {"cmd":"stop","message":"..."} {"cmd":"reset","message":"..."}
//   {"cmd":"announce","prefixes":["10.0.0.0/24","2001:db8::/48"],"attributes":{...}}
//   {"cmd":"withdraw","prefixes":[...]} {"cmd":"state"} {"cmd":"refresh","afi":1,"safi":1}
//   {"cmd":"exit"}
// Events: ready, established, update, down, state, error (each has "event").

import net, { type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import pino from 'pino';
import { AsPath } from '../../protocol/as-path.js';
import { parseCommunity } from '../../protocol/attributes/communities.js';
import { endOfRib, packUpdates, packWithdrawals } from '../../protocol/pack.js';
import { prefixListFromStrings, prefixListToStrings } from '../../protocol/prefix.js';
import type {
  FamilyName,
  LargeCommunity,
  PathAttributes,
  UpdateMessage,
} from '../../protocol/types.js';
import { attributesToJson, updateToJson } from '../../protocol/update-json.js';
import { Listener } from '../../src/session/listener.js';
import type { Negotiated } from '../../src/session/negotiate.js';
import { Session, type DownInfo, type SessionHandler } from '../../src/session/session.js';
import { systemClock } from '../../src/session/timers.js';

export interface SpeakerConfig {
  asn: number;
  routerId: string;
  /** Address the session dials from and the listener binds to. */
  localAddress: string;
  /** Our IPv6 address, used as the MP_REACH next hop of IPv6 announcements. */
  localAddress6?: string;
  peerAddress: string;
  peerAsn: number;
  peerPort?: number;
  listenPort?: number;
  passive?: boolean;
  holdTime?: number;
  families?: FamilyName[];
  gracefulRestartTime?: number;
  connectRetryTime?: number;
  idleHoldTime?: number;
  logLevel?: string;
}

/** Attributes as the test writes them: text forms, as in a daemon's config. */
export interface AnnounceAttributes {
  origin?: 0 | 1 | 2;
  /** ASNs after our own (we always prepend our ASN for eBGP). */
  asPath?: number[];
  nextHop?: string;
  nextHop6?: string;
  med?: number;
  localPref?: number;
  communities?: string[];
  largeCommunities?: string[];
}

type Command =
  | { cmd: 'start' }
  | { cmd: 'stop'; message?: string }
  | { cmd: 'reset'; message?: string }
  | { cmd: 'announce'; prefixes: string[]; attributes?: AnnounceAttributes }
  | { cmd: 'withdraw'; prefixes: string[] }
  | { cmd: 'refresh'; afi: number; safi: number }
  | { cmd: 'state' }
  | { cmd: 'exit' };

/** One route as the harness's Adj-RIB-In keeps it (JSON form of the attributes). */
export interface RibRoute {
  prefix: string;
  nextHops: string[];
  attributes: Record<string, unknown>;
}

function emit(event: string, body: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, at: Date.now(), ...body })}\n`);
}

function parseLarge(text: string): LargeCommunity {
  const parts = text.split(':').map(Number);
  if (parts.length !== 3 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 0xffffffff)) {
    throw new TypeError(`not a large community: ${text}`);
  }
  return [parts[0], parts[1], parts[2]];
}

function negotiatedToJson(n: Negotiated): Record<string, unknown> {
  return {
    peerAsn: n.peerAsn,
    peerRouterId: n.peerRouterId,
    holdTime: n.holdTime,
    as4: n.as4,
    families: n.families,
    addPath: n.addPath,
    routeRefresh: n.routeRefresh,
    enhancedRouteRefresh: n.enhancedRouteRefresh,
    extendedMessage: n.extendedMessage,
    extendedNextHop: n.extendedNextHop,
    gracefulRestart: n.gracefulRestart,
    peerHostname: n.peerHostname,
    ebgp: n.send.ebgp,
  };
}

function main(): void {
  const cfg = JSON.parse(process.argv[2] ?? '{}') as SpeakerConfig;
  const log = pino({ level: cfg.logLevel ?? 'silent' }, pino.destination(2));
  const families = cfg.families ?? ['ipv4-unicast', 'ipv6-unicast'];
  const ribIn = new Map<string, RibRoute>();
  /** What we announced, by prefix, so it is re-sent on (re-)establishment and refresh. */
  const ribOut = new Map<string, AnnounceAttributes>();
  let connectedAt: number | null = null;
  let establishedCount = 0;

  const applyUpdate = (u: UpdateMessage): void => {
    const a = u.attributes;
    const withdrawn = [...prefixListToStrings(u.withdrawn)];
    if (a.mpUnreach?.withdrawn) withdrawn.push(...prefixListToStrings(a.mpUnreach.withdrawn));
    const v4 = prefixListToStrings(u.nlri);
    const mp = a.mpReach?.nlri ? prefixListToStrings(a.mpReach.nlri) : [];
    for (const p of withdrawn) ribIn.delete(p);
    // RFC 7606 §2: treat-as-withdraw removes every prefix the UPDATE carried.
    if (u.treatAsWithdraw) {
      for (const p of [...v4, ...mp]) ribIn.delete(p);
      return;
    }
    const rest: PathAttributes = { ...a };
    delete rest.mpReach;
    delete rest.mpUnreach;
    const attrs = attributesToJson(rest);
    for (const p of v4)
      ribIn.set(p, { prefix: p, nextHops: a.nextHop ? [a.nextHop] : [], attributes: attrs });
    for (const p of mp)
      ribIn.set(p, { prefix: p, nextHops: [...(a.mpReach?.nextHops ?? [])], attributes: attrs });
  };

  const sendAnnouncements = (entries: [string, AnnounceAttributes][]): void => {
    const ctx = session.sendContext;
    if (!ctx) return;
    const out: Buffer[] = [];
    for (const [prefix, ann] of entries) {
      const v6 = prefix.includes(':');
      const attrs: PathAttributes = {
        origin: ann.origin ?? 0,
        // RFC 4271 §5.1.2: on eBGP we prepend our own AS.
        asPath: AsPath.sequence(
          cfg.asn === cfg.peerAsn ? [...(ann.asPath ?? [])] : [cfg.asn, ...(ann.asPath ?? [])],
        ),
      };
      if (ann.med !== undefined) attrs.med = ann.med;
      if (ann.localPref !== undefined && cfg.asn === cfg.peerAsn) attrs.localPref = ann.localPref;
      if (ann.communities?.length) {
        attrs.communities = ann.communities.map((c) => {
          const v = parseCommunity(c);
          if (v === null) throw new TypeError(`not a community: ${c}`);
          return v;
        });
      }
      if (ann.largeCommunities?.length)
        attrs.largeCommunities = ann.largeCommunities.map(parseLarge);
      const hop = v6 ? (ann.nextHop6 ?? cfg.localAddress6) : (ann.nextHop ?? cfg.localAddress);
      if (!hop) throw new TypeError(`no next hop for ${prefix}`);
      if (!v6) attrs.nextHop = hop;
      out.push(...packUpdates(attrs, prefixListFromStrings(v6 ? 2 : 1, [prefix]), ctx, [hop]));
    }
    if (out.length > 0) session.sendRaw(out);
  };

  const handler: SessionHandler = {
    established: (_s, n) => {
      establishedCount += 1;
      emit('established', {
        negotiated: negotiatedToJson(n),
        connectToEstablishedMs: connectedAt === null ? null : performance.now() - connectedAt,
        count: establishedCount,
        connection: connectionOf(),
      });
      // Our Adj-RIB-Out, then End-of-RIB per family (RFC 4724 §2).
      sendAnnouncements([...ribOut]);
      const ctx = session.sendContext;
      if (ctx) session.sendRaw(n.families.map((f) => endOfRib(f, ctx)));
    },
    update: (_s, u) => {
      applyUpdate(u);
      emit('update', { update: updateToJson(u) });
    },
    routeRefresh: (_s, m) => {
      emit('route-refresh', { afi: m.afi, safi: m.safi, subtype: m.subtype });
      sendAnnouncements([...ribOut].filter(([p]) => (p.includes(':') ? 2 : 1) === m.afi));
    },
    down: (_s, info: DownInfo) => {
      // The session's routes are released (RFC 4271 §8.2.2: delete all routes of the session).
      const released = ribIn.size;
      ribIn.clear();
      connectedAt = null;
      emit('down', { info, released });
    },
  };

  let current: Socket | null = null;
  const connectionOf = (): Record<string, unknown> | null =>
    current
      ? {
          localAddress: current.localAddress,
          localPort: current.localPort,
          remoteAddress: current.remoteAddress,
          remotePort: current.remotePort,
        }
      : null;

  const session = new Session(
    {
      peerAddress: cfg.peerAddress,
      peerPort: cfg.peerPort ?? 179,
      peerAsn: cfg.peerAsn,
      localAddress: cfg.localAddress,
      passive: cfg.passive ?? false,
      maxPrefixRestart: 5,
      fsm: { connectRetryTime: cfg.connectRetryTime ?? 2, idleHoldTime: cfg.idleHoldTime ?? 0.5 },
      local: {
        asn: cfg.asn,
        routerId: cfg.routerId,
        holdTime: cfg.holdTime ?? 90,
        families,
        extendedMessage: false,
        extendedNextHop: false,
        gracefulRestart: {
          restartTime: cfg.gracefulRestartTime ?? 120,
          restarting: false,
          forwarding: true,
        },
      },
    },
    handler,
    {
      clock: systemClock,
      dial: (o) => {
        const s = net.connect(o);
        s.once('connect', () => {
          connectedAt = performance.now();
          current = s;
        });
        return s;
      },
      log,
    },
  );

  const listener = new Listener(
    { address: cfg.localAddress, port: cfg.listenPort ?? 179 },
    (remote, socket) => {
      if (remote !== cfg.peerAddress) return false;
      if (session.state !== 'Established') {
        connectedAt = performance.now();
        current = socket;
      }
      session.acceptIncoming(socket);
      return true;
    },
    log,
  );

  const stateBody = (): Record<string, unknown> => ({
    state: session.state,
    negotiated: session.negotiated ? negotiatedToJson(session.negotiated) : null,
    counters: session.counters,
    lastNotification: session.lastNotification,
    lastError: session.lastError,
    endOfRib: [...session.endOfRibReceived],
    rib: [...ribIn.values()],
    connection: session.state === 'Established' ? connectionOf() : null,
  });

  const handle = (c: Command): void => {
    switch (c.cmd) {
      case 'start':
        session.start();
        break;
      case 'stop':
        session.stop(c.message ?? '');
        break;
      case 'reset':
        session.reset(c.message ?? '');
        break;
      case 'announce': {
        const entries = c.prefixes.map((p): [string, AnnounceAttributes] => [
          p,
          c.attributes ?? {},
        ]);
        for (const [p, a] of entries) ribOut.set(p, a);
        if (session.state === 'Established') sendAnnouncements(entries);
        break;
      }
      case 'withdraw': {
        for (const p of c.prefixes) ribOut.delete(p);
        const ctx = session.sendContext;
        if (ctx && session.state === 'Established') {
          const v4 = c.prefixes.filter((p) => !p.includes(':'));
          const v6 = c.prefixes.filter((p) => p.includes(':'));
          session.sendRaw([
            ...packWithdrawals(prefixListFromStrings(1, v4), ctx),
            ...packWithdrawals(prefixListFromStrings(2, v6), ctx),
          ]);
        }
        break;
      }
      case 'refresh':
        emit('refresh', { sent: session.requestRefresh(c.afi, c.safi) });
        return;
      case 'state':
        break;
      case 'exit':
        session.destroy();
        void listener.close().finally(() => process.exit(0));
        return;
    }
    emit('state', stateBody());
  };

  listener.listen().then(
    (addr) => {
      emit('ready', { listen: addr });
      const rl = createInterface({ input: process.stdin });
      rl.on('line', (line) => {
        if (!line.trim()) return;
        try {
          handle(JSON.parse(line) as Command);
        } catch (err) {
          emit('error', { message: (err as Error).message, line });
        }
      });
      rl.on('close', () => {
        session.destroy();
        process.exit(0);
      });
    },
    (err: Error) => {
      emit('error', { message: err.message });
      process.exit(2);
    },
  );
}

main();
