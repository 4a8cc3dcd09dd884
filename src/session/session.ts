// One BGP neighbor: runs the state machine over a TCP connection, owns its timers, frames and
// decodes messages, negotiates capabilities and resolves connection collisions. It hands
// routes to a handler and knows nothing of the RIB's tables or of the kernel.
// RFC 4271 §6.8 (collisions), §8; RFC 5492 §5 (unsupported capability retry); RFC 4486; RFC 9003.

import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { CeaseSubcode, ErrorCode, OpenSubcode } from '../../protocol/constants.js';
import { BgpError } from '../../protocol/errors.js';
import { Framer } from '../../protocol/framer.js';
import { parseIpv4 } from '../../protocol/prefix.js';
import { decodeMessage, encodeMessage } from '../../protocol/message.js';
import {
  decodeNotification,
  encodeShutdownCommunication,
  notificationName,
  notificationSubcodeName,
} from '../../protocol/notification.js';
import {
  DEFAULT_CONTEXT,
  type BgpMessage,
  type CodecContext,
  type NotificationMessage,
  type OpenMessage,
  type RouteRefreshMessage,
  type UpdateMessage,
} from '../../protocol/types.js';
import {
  DEFAULT_FSM_CONFIG,
  initialState,
  step,
  type FsmAction,
  type FsmConfig,
  type FsmEvent,
  type FsmState,
  type Notification,
  type StateName,
  type TimerName,
} from './fsm.js';
import {
  buildOpen,
  negotiate,
  rejectedCapabilities,
  type LocalSpeaker,
  type Negotiated,
} from './negotiate.js';
import { normalizeAddress } from './listener.js';
import { TimerOwner, type Clock } from './timers.js';

export interface SessionOptions {
  peerAddress: string;
  peerPort: number;
  /** 0 accepts any AS. */
  peerAsn: number;
  /** Source address for outgoing connections. */
  localAddress?: string;
  passive: boolean;
  local: LocalSpeaker;
  fsm?: Partial<FsmConfig>;
  /** Seconds to wait before restarting after a max-prefix shutdown (RFC 4486). */
  maxPrefixRestart: number;
}

/** Opens outgoing TCP connections; the daemon passes `net.connect`, tests may pass fakes. */
export type Dialer = (opts: { host: string; port: number; localAddress?: string }) => Socket;

export interface SessionHandler {
  established(session: Session, negotiated: Negotiated): void;
  update(session: Session, update: UpdateMessage): void;
  routeRefresh(session: Session, message: RouteRefreshMessage): void;
  /** Left Established: the routes learned in the session must be released. */
  down(session: Session, info: DownInfo): void;
  /** The send queue drained below its mark: more updates may be written. */
  writable?(session: Session): void;
}

export interface DownInfo {
  reason: string;
  wasEstablished: boolean;
  /** The NOTIFICATION that ended the session, sent or received, if any. */
  notification?: NotificationSummary;
}

export interface NotificationSummary {
  direction: 'sent' | 'received';
  code: number;
  subcode: number;
  name: string;
  message?: string;
  at: number;
}

export interface SessionCounters {
  in: Record<BgpMessage['type'], number>;
  out: Record<BgpMessage['type'], number>;
  flaps: number;
  decodeErrors: Record<'session-reset' | 'treat-as-withdraw' | 'attribute-discard', number>;
}

/** Socket bytes queued above which the session reports backpressure to the RIB. */
export const SEND_HIGH_WATER = 1 << 20;
/** Hard bound: a peer that stops reading with this much queued is reset (RFC 9687 spirit). */
export const SEND_HARD_LIMIT = 64 << 20;

function zeroCounts(): Record<BgpMessage['type'], number> {
  return { open: 0, update: 0, notification: 0, keepalive: 0, 'route-refresh': 0 };
}

/** One TCP connection with its own state machine and timers (two exist during a collision). */
class Conn {
  fsm: FsmState;
  readonly timers: TimerOwner;
  framer = new Framer({ maxLength: 4096 });
  socket: Socket | null = null;
  peerOpen: OpenMessage | null = null;
  negotiated: Negotiated | null = null;
  closed = false;
  /** Counts the socket's data chunks: messages of one chunk arrived at the same moment. */
  chunk = 0;
  /** The chunk in which an UPDATE or KEEPALIVE last restarted the Hold Timer in Established. */
  holdRestartedIn = -1;

  constructor(
    readonly session: Session,
    /** We initiated this connection (matters for collision resolution, RFC 4271 §6.8). */
    public outbound: boolean,
    clock: Clock,
    random: () => number,
  ) {
    this.fsm = initialState(clock.now(), session.options.passive);
    this.timers = new TimerOwner(clock, (timer) => session.timerFired(this, timer), random);
  }

  get receiveContext(): CodecContext {
    return this.negotiated?.receive ?? DEFAULT_CONTEXT;
  }
}

const UPDATE_EVENT: FsmEvent = Object.freeze({ type: 'UpdateMsg' });
const KEEPALIVE_EVENT: FsmEvent = Object.freeze({ type: 'KeepAliveMsg' });

const TIMER_EVENT: Record<TimerName, FsmEvent['type']> = {
  connectRetry: 'ConnectRetryTimer_Expires',
  hold: 'HoldTimer_Expires',
  keepalive: 'KeepaliveTimer_Expires',
  delayOpen: 'DelayOpenTimer_Expires',
  idleHold: 'IdleHoldTimer_Expires',
};

export class Session {
  readonly counters: SessionCounters = {
    in: zeroCounts(),
    out: zeroCounts(),
    flaps: 0,
    decodeErrors: { 'session-reset': 0, 'treat-as-withdraw': 0, 'attribute-discard': 0 },
  };
  lastError: string | null = null;
  lastNotification: NotificationSummary | null = null;
  /** The NOTIFICATION of the current (or just ended) session only; cleared on Established. */
  private sessionNotification: NotificationSummary | null = null;
  /** Capability codes the peer rejected (RFC 5492 §5); left out of later OPENs. */
  readonly disabledCapabilities = new Set<number>();
  /** Per-family End-of-RIB received from the peer in this session. */
  readonly endOfRibReceived = new Set<string>();
  private primary: Conn;
  private candidate: Conn | null = null;
  private readonly fsmConfig: FsmConfig;
  private readonly log: Logger;
  private enabled = false;
  private restartDelay: number | null = null;

  constructor(
    readonly options: SessionOptions,
    private readonly handler: SessionHandler,
    private readonly deps: { clock: Clock; dial: Dialer; log: Logger; random?: () => number },
  ) {
    this.fsmConfig = { ...DEFAULT_FSM_CONFIG, ...options.fsm, passive: options.passive };
    this.fsmConfig.holdTime = options.local.holdTime;
    this.log = deps.log.child({ peer: options.peerAddress });
    this.primary = this.newConn(false);
  }

  // --- public view ------------------------------------------------------------------------

  get state(): StateName {
    return this.primary.fsm.name;
  }

  /** Milliseconds-since-epoch when the current state was entered. */
  get since(): number {
    return this.primary.fsm.since;
  }

  get negotiated(): Negotiated | null {
    return this.primary.fsm.name === 'Established' ? this.primary.negotiated : null;
  }

  get isEnabled(): boolean {
    return this.enabled;
  }

  /** Our address on the live connection (the default next-hop-self). */
  get localAddress(): string | null {
    const a = this.primary.socket?.localAddress;
    return a ? normalizeAddress(a) : null;
  }

  /** Bytes waiting in the socket's send queue. */
  get queuedBytes(): number {
    return this.primary.socket?.writableLength ?? 0;
  }

  /** True when the RIB may write more updates without exceeding the send high-water mark. */
  get writable(): boolean {
    return this.state === 'Established' && this.queuedBytes < SEND_HIGH_WATER;
  }

  get sendContext(): CodecContext | null {
    return this.negotiated?.send ?? null;
  }

  // --- administrative control ---------------------------------------------------------------

  start(): void {
    this.enabled = true;
    this.feed(this.primary, { type: 'ManualStart' });
  }

  /**
   * Disable: Cease / Administrative Shutdown with an optional RFC 9003 message. When the RFC
   * 8538 N bit was negotiated it goes out as a Hard Reset, so the peer drops our routes, unless
   * `graceful` asks the peer to keep them (a daemon restart).
   */
  stop(message = '', opts: { graceful?: boolean } = {}): void {
    this.enabled = false;
    this.closeCandidate();
    this.feed(this.primary, {
      type: 'ManualStop',
      notification: this.ceaseWith(CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, message, !opts.graceful),
    });
  }

  /** Hard reset: Cease / Administrative Reset, then start again. */
  reset(message = ''): void {
    this.closeCandidate();
    this.feed(this.primary, {
      type: 'ManualStop',
      notification: this.ceaseWith(CeaseSubcode.ADMINISTRATIVE_RESET, message, true),
    });
    if (this.enabled) this.feed(this.primary, { type: 'ManualStart' });
  }

  /** Soft reset in: ask the peer to re-send its routes (RFC 2918). Returns false if unsupported. */
  requestRefresh(afi: number, safi: number): boolean {
    if (!this.negotiated?.routeRefresh) return false;
    this.send({ type: 'route-refresh', afi, safi, subtype: 0 });
    return true;
  }

  /**
   * RFC 4486: the peer sent more prefixes than allowed. Send Cease / Maximum Number of
   * Prefixes Reached (data: AFI, SAFI, the limit) and restart after the configured interval.
   */
  maxPrefixExceeded(afi: number, safi: number, limit: number): void {
    const data = Buffer.alloc(7);
    data.writeUInt16BE(afi, 0);
    data.writeUInt8(safi, 2);
    data.writeUInt32BE(limit >>> 0, 3);
    const notification = this.hardResetIfNegotiated({
      code: ErrorCode.CEASE,
      subcode: CeaseSubcode.MAXIMUM_NUMBER_OF_PREFIXES_REACHED,
      data,
    });
    if (this.options.maxPrefixRestart <= 0) {
      // 0: stay down until an operator enables the peer again.
      this.enabled = false;
      this.feed(this.primary, { type: 'ManualStop', notification });
      return;
    }
    this.restartDelay = this.options.maxPrefixRestart;
    this.feed(this.primary, { type: 'AutomaticStop', notification });
  }

  /** Writes pre-encoded messages (UPDATEs from the RIB). Returns `writable` afterwards. */
  sendRaw(messages: readonly Buffer[], type: BgpMessage['type'] = 'update'): boolean {
    const socket = this.primary.socket;
    if (!socket || this.state !== 'Established') return false;
    for (const m of messages) socket.write(m);
    this.counters.out[type] += messages.length;
    if (socket.writableLength > SEND_HARD_LIMIT) {
      this.log.warn(
        { queued: socket.writableLength },
        'peer is not reading; resetting the session',
      );
      this.feed(this.primary, {
        type: 'AutomaticStop',
        notification: { code: ErrorCode.CEASE, subcode: CeaseSubcode.OUT_OF_RESOURCES },
      });
      return false;
    }
    return socket.writableLength < SEND_HIGH_WATER;
  }

  send(msg: BgpMessage): void {
    this.sendOn(this.primary, msg);
  }

  // --- incoming connections (from the listener) ---------------------------------------------

  /**
   * RFC 4271 §6.8: an incoming connection for this peer. Accepted as the connection while we
   * have none past Active; kept as a collision candidate in OpenSent/OpenConfirm; refused in
   * Established or when the peer is disabled.
   */
  acceptIncoming(socket: Socket): void {
    let state = this.primary.fsm.name;
    if (!this.enabled) {
      this.refuse(socket, CeaseSubcode.CONNECTION_REJECTED, 'peer is disabled');
      return;
    }
    if (state === 'Idle') {
      // Waiting to restart after a failure: the peer's connection is the restart.
      this.feed(this.primary, { type: 'AutomaticStart_with_PassiveTcpEstablishment' });
      state = this.primary.fsm.name;
    }
    if (state === 'Established' || this.candidate) {
      this.refuse(socket, CeaseSubcode.CONNECTION_COLLISION_RESOLUTION, `already ${state}`);
      return;
    }
    if (state === 'Active') {
      // Listening and not dialing: the connection that arrived is the connection.
      this.detachSocket(this.primary);
      this.attach(this.primary, socket);
      this.feed(this.primary, { type: 'TcpConnectionConfirmed' });
      return;
    }
    // Connect (our dial is under way), OpenSent or OpenConfirm: run the new connection up to
    // its OPEN beside ours, then keep one of the two (RFC 4271 §6.8).
    const c = this.newConn(false);
    c.fsm = { ...c.fsm, name: 'Active' };
    this.candidate = c;
    this.attach(c, socket);
    this.feed(c, { type: 'TcpConnectionConfirmed' });
  }

  /** Closes everything without sending anything (daemon exit after the Cease was sent). */
  destroy(): void {
    this.enabled = false;
    for (const c of [this.primary, this.candidate]) {
      if (!c) continue;
      c.timers.stopAll();
      this.detachSocket(c);
    }
    this.candidate = null;
  }

  // --- internals ----------------------------------------------------------------------------

  private newConn(outbound: boolean): Conn {
    return new Conn(this, outbound, this.deps.clock, this.deps.random ?? Math.random);
  }

  private ceaseWith(subcode: number, message: string, hard: boolean): Notification {
    // RFC 9003: the shutdown communication is a length octet and UTF-8 text.
    const n = {
      code: ErrorCode.CEASE,
      subcode,
      data: message ? encodeShutdownCommunication(message) : undefined,
    };
    return hard ? this.hardResetIfNegotiated(n) : n;
  }

  /**
   * RFC 8538 §3 and §5: with the N bit negotiated, Administrative Shutdown and Reset and
   * Maximum Prefixes go out as Cease / Hard Reset carrying the original subcode and data.
   */
  private hardResetIfNegotiated(n: Notification): Notification {
    if (!this.primary.negotiated?.gracefulRestart?.notification) return n;
    const inner = Buffer.concat([Buffer.from([n.code, n.subcode]), n.data ?? Buffer.alloc(0)]);
    return { code: ErrorCode.CEASE, subcode: CeaseSubcode.HARD_RESET, data: inner };
  }

  private refuse(socket: Socket, subcode: number, why: string): void {
    this.log.info({ remote: socket.remoteAddress, why }, 'refusing connection');
    const msg: NotificationMessage = {
      type: 'notification',
      code: ErrorCode.CEASE,
      subcode,
      data: Buffer.alloc(0),
    };
    socket.on('error', () => undefined);
    socket.end(encodeMessage(msg, DEFAULT_CONTEXT));
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  timerFired(c: Conn, timer: TimerName): void {
    this.feed(c, { type: TIMER_EVENT[timer] } as FsmEvent);
  }

  private feed(c: Conn, event: FsmEvent): void {
    const before = c.fsm.name;
    const cfg =
      this.restartDelay !== null && c === this.primary
        ? { ...this.fsmConfig, idleHoldTime: this.restartDelay, idleHoldMaxTime: this.restartDelay }
        : this.fsmConfig;
    let result;
    try {
      result = step(c.fsm, event, this.deps.clock.now(), cfg);
    } catch (err) {
      this.log.error({ err, event: event.type }, 'state machine failure');
      return;
    }
    c.fsm = result.state;
    if (before !== c.fsm.name) {
      this.log.debug({ from: before, to: c.fsm.name, event: event.type }, 'state change');
    }
    for (const action of result.actions) this.perform(c, action);
    if (c.fsm.name === 'Idle' && this.restartDelay !== null && c === this.primary) {
      this.restartDelay = null;
    }
    if (!this.enabled && c === this.primary && c.fsm.name === 'Idle') c.timers.stop('idleHold');
  }

  private perform(c: Conn, action: FsmAction): void {
    switch (action.type) {
      case 'connect':
        this.dial(c);
        return;
      case 'drop-connection':
        this.detachSocket(c);
        return;
      case 'send-open':
        this.sendOn(c, buildOpen(this.options.local, this.disabledCapabilities));
        return;
      case 'send-keepalive':
        this.sendOn(c, { type: 'keepalive' });
        return;
      case 'send-notification': {
        const n = action.notification;
        const msg: NotificationMessage = {
          type: 'notification',
          code: n.code,
          subcode: n.subcode,
          data: n.data ?? Buffer.alloc(0),
        };
        this.noteNotification('sent', msg);
        this.sendOn(c, msg);
        return;
      }
      case 'start-timer':
        c.timers.start(action.timer, action.seconds);
        return;
      case 'stop-timer':
        c.timers.stop(action.timer);
        return;
      case 'established':
        this.endOfRibReceived.clear();
        this.sessionNotification = null;
        this.log.info(
          {
            asn: c.negotiated?.peerAsn,
            holdTime: c.negotiated?.holdTime,
            families: c.negotiated?.families,
          },
          'session established',
        );
        if (c.negotiated) this.handler.established(this, c.negotiated);
        return;
      case 'release':
        if (c !== this.primary) return;
        this.lastError = action.reason;
        // Only a session that was Established has routes to release.
        if (!action.wasEstablished) return;
        this.counters.flaps += 1;
        this.log.warn({ reason: action.reason }, 'session down');
        this.handler.down(this, {
          reason: action.reason,
          wasEstablished: true,
          notification: this.sessionNotification ?? undefined,
        });
        return;
    }
  }

  private dial(c: Conn): void {
    this.detachSocket(c);
    const socket = this.deps.dial({
      host: this.options.peerAddress,
      port: this.options.peerPort,
      localAddress: this.options.localAddress,
    });
    this.attach(c, socket, true);
  }

  private attach(c: Conn, socket: Socket, dialing = false): void {
    c.socket = socket;
    c.closed = false;
    c.outbound = dialing;
    c.framer = new Framer({ maxLength: 4096 });
    c.negotiated = null;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(c, socket, chunk));
    socket.on('drain', () => {
      if (c === this.primary && this.state === 'Established') this.handler.writable?.(this);
    });
    socket.on('error', (err) => {
      this.lastError = err.message;
      this.log.debug({ err: err.message }, 'socket error');
    });
    socket.on('close', () => {
      if (c.socket !== socket || c.closed) return;
      c.closed = true;
      c.socket = null;
      if (c === this.candidate) {
        // A collision candidate that goes away is simply forgotten.
        c.timers.stopAll();
        this.candidate = null;
        return;
      }
      this.feed(c, { type: 'TcpConnectionFails' });
    });
    if (dialing) socket.once('connect', () => this.feed(c, { type: 'Tcp_CR_Acked' }));
  }

  private detachSocket(c: Conn): void {
    const socket = c.socket;
    if (!socket) return;
    c.socket = null;
    c.closed = true;
    // Let a queued NOTIFICATION leave before the connection goes away.
    socket.end();
    setTimeout(() => socket.destroy(), 2000).unref();
  }

  private closeCandidate(): void {
    if (!this.candidate) return;
    this.candidate.timers.stopAll();
    this.detachSocket(this.candidate);
    this.candidate = null;
  }

  private sendOn(c: Conn, msg: BgpMessage): void {
    const socket = c.socket;
    if (!socket) return;
    const ctx = c.negotiated?.send ?? DEFAULT_CONTEXT;
    socket.write(encodeMessage(msg, ctx));
    this.counters.out[msg.type] += 1;
  }

  private onData(c: Conn, socket: Socket, chunk: Buffer): void {
    if (c.socket !== socket) return;
    c.chunk++;
    try {
      // The framer hands over the whole messages in the chunk, each where it lies (no copy, no
      // view object), then throws if framing was lost. A message that closed the connection
      // stops the rest.
      c.framer.each(chunk, (buf, offset) => {
        if (c.socket !== socket) return false;
        const msg = decodeMessage(buf, offset, c.receiveContext).value;
        this.counters.in[msg.type] += 1;
        this.receive(c, msg);
        return true;
      });
    } catch (err) {
      if (c.socket === socket) this.protocolError(c, err);
    }
  }

  private protocolError(c: Conn, err: unknown): void {
    if (!(err instanceof BgpError)) {
      this.log.error({ err }, 'unexpected decoder failure');
      this.feed(c, { type: 'TcpConnectionFails' });
      return;
    }
    this.counters.decodeErrors[err.handling] += 1;
    this.lastError = err.message;
    this.log.warn({ code: err.notification.code, subcode: err.notification.subcode }, err.message);
    const notification = err.notification;
    switch (notification.code) {
      case ErrorCode.MESSAGE_HEADER:
        this.feed(c, { type: 'BGPHeaderErr', notification });
        return;
      case ErrorCode.OPEN_MESSAGE:
        this.feed(c, { type: 'BGPOpenMsgErr', notification });
        return;
      default:
        // UPDATE and ROUTE-REFRESH errors that reset the session.
        this.feed(c, { type: 'UpdateMsgErr', notification });
    }
  }

  private receive(c: Conn, msg: BgpMessage): void {
    switch (msg.type) {
      case 'open':
        this.receiveOpen(c, msg);
        return;
      case 'keepalive':
        this.restartHold(c, KEEPALIVE_EVENT);
        return;
      case 'notification':
        this.receiveNotification(c, msg);
        return;
      case 'update':
        this.restartHold(c, UPDATE_EVENT);
        if (c !== this.primary || c.fsm.name !== 'Established') return;
        for (const e of msg.errors ?? []) this.counters.decodeErrors[e.handling] += 1;
        if (msg.endOfRib) this.endOfRibReceived.add(msg.endOfRib);
        this.handler.update(this, msg);
        return;
      case 'route-refresh':
        if (c === this.primary && c.fsm.name === 'Established')
          this.handler.routeRefresh(this, msg);
        return;
    }
  }

  /**
   * RFC 4271 §8.2.2: in Established a KEEPALIVE or UPDATE restarts the Hold Timer and does
   * nothing else. The messages of one socket chunk arrived together, so the first of them
   * restarts it and the rest would set the same deadline again: a full table arrives as a few
   * hundred UPDATEs per chunk, and each step reads the clock twice. Outside Established every
   * message still goes through the state machine.
   */
  private restartHold(c: Conn, event: FsmEvent): void {
    if (c.fsm.name === 'Established' && c.holdRestartedIn === c.chunk) return;
    this.feed(c, event);
    if (c.fsm.name === 'Established') c.holdRestartedIn = c.chunk;
  }

  private receiveOpen(c: Conn, open: OpenMessage): void {
    const result = negotiate(
      this.options.local,
      this.disabledCapabilities,
      open,
      this.options.peerAsn,
    );
    if ('error' in result) {
      this.feed(c, { type: 'BGPOpenMsgErr', notification: result.error });
      return;
    }
    c.peerOpen = open;
    c.negotiated = result.ok;
    if (result.ok.extendedMessage) c.framer.setMaxLength(65535);
    if (c === this.candidate) {
      this.resolveCollision(c, open);
      return;
    }
    this.feed(c, { type: 'BGPOpen', holdTime: open.holdTime });
  }

  /**
   * RFC 4271 §6.8: compare BGP identifiers as unsigned integers and keep the connection that
   * the speaker with the higher identifier initiated. An Established connection always stays;
   * a primary that has no live connection (still dialing, or failed) gives way.
   */
  private resolveCollision(candidate: Conn, open: OpenMessage): void {
    // Router ids are checked dotted quads by now (RFC 6286 §2.1 / negotiate.ts).
    const ours = parseIpv4(this.options.local.routerId) ?? 0;
    const theirs = parseIpv4(open.routerId) ?? 0;
    const old = this.primary;
    const oldLive = old.fsm.name === 'OpenSent' || old.fsm.name === 'OpenConfirm';
    const keepCandidate =
      old.fsm.name !== 'Established' && (!oldLive || (theirs > ours && old.outbound));
    this.candidate = null;
    if (keepCandidate) {
      this.log.info(
        { ours: this.options.local.routerId, theirs: open.routerId },
        'collision: keeping the connection the peer opened',
      );
      if (old.fsm.name !== 'Idle') this.feed(old, { type: 'OpenCollisionDump' });
      old.timers.stopAll();
      this.detachSocket(old);
      this.primary = candidate;
      this.feed(candidate, { type: 'BGPOpen', holdTime: open.holdTime });
      return;
    }
    this.log.info(
      { ours: this.options.local.routerId, theirs: open.routerId },
      'collision: keeping our own connection',
    );
    this.feed(candidate, { type: 'OpenCollisionDump' });
    candidate.timers.stopAll();
  }

  private receiveNotification(c: Conn, msg: NotificationMessage): void {
    this.noteNotification('received', msg);
    const n = this.lastNotification!;
    this.log.warn(
      { code: msg.code, subcode: msg.subcode, message: n.message },
      `NOTIFICATION received: ${n.name}`,
    );
    // RFC 5492 §5: drop the capabilities the peer does not support, and retry without them.
    if (msg.code === ErrorCode.OPEN_MESSAGE && msg.subcode === OpenSubcode.UNSUPPORTED_CAPABILITY) {
      for (const code of rejectedCapabilities(msg.data)) this.disabledCapabilities.add(code);
    }
    const versionError =
      msg.code === ErrorCode.OPEN_MESSAGE && msg.subcode === OpenSubcode.UNSUPPORTED_VERSION_NUMBER;
    this.feed(c, { type: versionError ? 'NotifMsgVerErr' : 'NotifMsg' });
  }

  private noteNotification(direction: 'sent' | 'received', sent: NotificationMessage): void {
    // RFC 4271 §6.8: the Cease that closes the losing connection of a collision says nothing
    // about the session; recording it would hide the NOTIFICATION an operator is looking for.
    if (
      sent.code === ErrorCode.CEASE &&
      sent.subcode === CeaseSubcode.CONNECTION_COLLISION_RESOLUTION
    ) {
      this.log.debug(
        { direction },
        'collision resolved with Cease / Connection Collision Resolution',
      );
      return;
    }
    // Read what we send the way a peer would, so both directions show the same facts.
    const msg = decodeNotification(
      Buffer.concat([Buffer.from([sent.code, sent.subcode]), sent.data]),
    );
    let name = notificationName(msg.code, msg.subcode);
    if (msg.hardReset !== undefined) {
      name += ` (${notificationSubcodeName(msg.hardReset.code, msg.hardReset.subcode)})`;
    }
    const summary: NotificationSummary = {
      direction,
      code: msg.code,
      subcode: msg.subcode,
      name,
      at: this.deps.clock.now(),
    };
    if (msg.message !== undefined) summary.message = msg.message;
    this.lastNotification = summary;
    this.sessionNotification = summary;
  }
}
