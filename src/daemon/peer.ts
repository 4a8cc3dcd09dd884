// One configured neighbor at run time: its Session joined to its RIB peer. Turns session
// events into RIB calls and RIB output into UPDATE messages. No sockets of its own.
// RFC 4724 §4.2 and RFC 8538 §4 (when a session loss is graceful), RFC 4486 (max-prefix).

import type { Logger } from 'pino';
import type { FamilyName, RouteRefreshMessage, UpdateMessage } from '../../protocol/types.js';
import type { PeerType } from '../control/protocol.js';
import { packingSink } from '../rib/pack-adapter.js';
import type { Rib } from '../rib/rib.js';
import type { NegotiatedFacts, PeerConfig as RibPeerConfig, RibPeer } from '../rib/types.js';
import { familyName, type LocalSpeaker, type Negotiated } from '../session/negotiate.js';
import { Session, type DownInfo, type Dialer, type SessionHandler } from '../session/session.js';
import type { Clock } from '../session/timers.js';
import { peerPolicies } from './policy.js';

/** A neighbor as the daemon wants it, from the config file or from Kubernetes. */
export interface PeerSpec {
  address: string;
  asn: number;
  type: PeerType;
  /** Where it came from: `config`, `node/NAME` or `bgppeer/NAME`. */
  source: string;
  port: number;
  passive: boolean;
  holdTime: number;
  connectRetryTime: number;
  localAddress: string | null;
  families: FamilyName[];
  maxPrefixes: Partial<Record<FamilyName, number>>;
  maxPrefixRestart: number;
  routeReflectorClient: boolean;
  /** Toward eBGP: send learned routes too, not only our own blocks. */
  transit: boolean;
  policy: string | null;
  gracefulRestart: { enabled: boolean; restartTime: number };
}

/** Fields whose change needs a new session; the others are applied by a soft reset. */
const SESSION_FIELDS: (keyof PeerSpec)[] = [
  'asn',
  'port',
  'passive',
  'holdTime',
  'connectRetryTime',
  'localAddress',
  'families',
  'gracefulRestart',
];

export function needsNewSession(a: PeerSpec, b: PeerSpec): boolean {
  return SESSION_FIELDS.some((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}

export function samePeerSpec(a: PeerSpec, b: PeerSpec): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export interface PeerContext {
  rib: Rib;
  log: Logger;
  clock: Clock;
  dial: Dialer;
  /** Our side of every session: ASN, router id, hostname, whether we restarted. */
  local: () => { asn: number; routerId: string; hostname: string; restarting: boolean };
  /** Called when a peer's End-of-RIB arrived (or it went down), to track convergence. */
  onProgress: () => void;
}

export class PeerRuntime implements SessionHandler {
  readonly session: Session;
  readonly ribPeer: RibPeer;
  /** Every family's End-of-RIB (or the session's first failure) was seen since start. */
  settled = false;
  private readonly log: Logger;
  private lastNegotiated: Negotiated | null = null;

  constructor(
    readonly spec: PeerSpec,
    private readonly ctx: PeerContext,
  ) {
    this.log = ctx.log.child({ peer: spec.address });
    this.ribPeer = ctx.rib.registerPeer(this.ribConfig(spec));
    const me = ctx.local();
    const local: LocalSpeaker = {
      asn: me.asn,
      routerId: me.routerId,
      holdTime: spec.holdTime,
      families: spec.families,
      extendedMessage: true,
      extendedNextHop: false,
      hostname: me.hostname,
      gracefulRestart: spec.gracefulRestart.enabled
        ? {
            restartTime: spec.gracefulRestart.restartTime,
            // RFC 4724 §3: R set after a restart; F set because kernel routes were kept.
            restarting: me.restarting,
            forwarding: true,
          }
        : undefined,
    };
    this.session = new Session(
      {
        peerAddress: spec.address,
        peerPort: spec.port,
        peerAsn: spec.asn,
        localAddress: spec.localAddress ?? undefined,
        passive: spec.passive,
        local,
        fsm: {
          connectRetryTime: Math.min(spec.connectRetryTime, 5),
          connectRetryMaxTime: spec.connectRetryTime,
        },
        maxPrefixRestart: spec.maxPrefixRestart,
      },
      this,
      { clock: ctx.clock, dial: ctx.dial, log: ctx.log },
    );
  }

  ribConfig(spec: PeerSpec): RibPeerConfig {
    const me = this.ctx.local();
    return {
      id: spec.address,
      address: spec.address,
      asn: spec.asn,
      localAsn: me.asn,
      rrClient: spec.routeReflectorClient,
      nextHopSelf: true,
      transit: spec.transit,
      // Soft reset in without asking the peer, and an exact "received" count in show peers.
      keepPrePolicy: true,
      maxPrefixes: spec.maxPrefixes,
      ...peerPolicies(spec.policy),
    };
  }

  /** Applies a spec change that keeps the session (policy, RR client, limits): a soft reset. */
  reconfigure(spec: PeerSpec): void {
    Object.assign(this.spec, spec);
    this.ctx.rib.updatePeer(this.ribPeer, this.ribConfig(spec));
  }

  start(): void {
    this.session.start();
  }

  /** Stops the session with a Cease and forgets the peer's routes. */
  remove(message: string): void {
    this.session.stop(message);
    this.session.destroy();
    this.ctx.rib.unregisterPeer(this.ribPeer);
  }

  /** Routes the peer announces now, before import policy (RFC 4271 §3.2 Adj-RIB-In). */
  get received(): number {
    return (
      this.ctx.rib.receivedCount(this.ribPeer, 'ipv4-unicast') +
      this.ctx.rib.receivedCount(this.ribPeer, 'ipv6-unicast')
    );
  }

  get accepted(): number {
    return (
      this.ctx.rib.routeCount(this.ribPeer, 'ipv4-unicast') +
      this.ctx.rib.routeCount(this.ribPeer, 'ipv6-unicast')
    );
  }

  get advertised(): number {
    return (
      this.ctx.rib.advertisedCount(this.ribPeer, 'ipv4-unicast') +
      this.ctx.rib.advertisedCount(this.ribPeer, 'ipv6-unicast')
    );
  }

  // --- SessionHandler ---------------------------------------------------------------------

  established(session: Session, n: Negotiated): void {
    this.lastNegotiated = n;
    const facts: NegotiatedFacts = {
      routerId: n.peerRouterId,
      localAddress: session.localAddress ?? '',
      families: n.families,
      addPath: n.addPath,
      fourOctetAs: n.as4,
      extendedMessage: n.extendedMessage,
      gracefulRestart: n.gracefulRestart
        ? {
            restartTimeS: n.gracefulRestart.restartTime,
            families: Object.fromEntries(
              n.gracefulRestart.families.map((f) => [f.family, { forwarding: f.forwarding }]),
            ),
          }
        : undefined,
    };
    const sink = packingSink(n.send, (msg) => session.sendRaw([msg]));
    this.ctx.rib.established(this.ribPeer, facts, sink);
  }

  update(_session: Session, update: UpdateMessage): void {
    this.ctx.rib.applyUpdate(this.ribPeer, update);
    if (update.endOfRib) {
      this.ctx.rib.endOfRib(this.ribPeer, update.endOfRib);
      const n = this.session.negotiated;
      if (n && n.families.every((f) => this.session.endOfRibReceived.has(f))) {
        this.settled = true;
        this.ctx.onProgress();
      }
    }
  }

  routeRefresh(_session: Session, message: RouteRefreshMessage): void {
    const family = familyName(message.afi, message.safi);
    // RFC 7313: BoRR/EoRR are markers around a peer's re-advertisement, not requests.
    if (family && message.subtype === 0) this.ctx.rib.routeRefresh(this.ribPeer, family);
  }

  down(_session: Session, info: DownInfo): void {
    const graceful = this.lossIsGraceful(info);
    this.log.info(
      { reason: info.reason, graceful },
      graceful ? 'keeping routes as stale (graceful restart helper)' : 'withdrawing routes',
    );
    this.ctx.rib.peerDown(this.ribPeer, { graceful });
    this.settled = true;
    this.ctx.onProgress();
  }

  writable(): void {
    this.ctx.rib.sinkWritable(this.ribPeer);
  }

  /**
   * RFC 4724 §4.2: a session lost without a NOTIFICATION keeps the peer's routes if it
   * advertised graceful restart. RFC 8538 §4: with the N bit on both sides, a NOTIFICATION
   * other than Cease / Hard Reset is graceful too. A Cease we send (administrative stop,
   * deconfiguration, max-prefix) never is.
   */
  private lossIsGraceful(info: DownInfo): boolean {
    const gr = this.lastNegotiated?.gracefulRestart;
    if (!gr) return false;
    // The session reports only the NOTIFICATION of the session that just ended.
    const n = info.notification;
    if (!n) return true;
    if (n.direction === 'sent' && n.code === 6) return false;
    const hardReset = n.code === 6 && n.subcode === 9;
    return gr.notification && !hardReset;
  }
}
