// The BGP finite state machine for one connection: a pure function from (state, event, now)
// to (state, actions). It performs no I/O and reads no clock; the session carries out actions.
// RFC 4271 §8 (events §8.1, transitions §8.2.2), RFC 6608 (FSM error subcodes), RFC 4486.

import { CeaseSubcode, ErrorCode, FsmSubcode } from '../../protocol/constants.js';

export type StateName = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

export type TimerName = 'connectRetry' | 'hold' | 'keepalive' | 'delayOpen' | 'idleHold';

export interface Notification {
  code: number;
  subcode: number;
  data?: Buffer;
}

/** RFC 4271 §8.1: the events, with their RFC names. Numbers in comments are the RFC's. */
export type FsmEvent =
  | { type: 'ManualStart' } // 1
  | { type: 'ManualStop'; notification?: Notification } // 2
  | { type: 'AutomaticStart' } // 3
  | { type: 'ManualStart_with_PassiveTcpEstablishment' } // 4
  | { type: 'AutomaticStart_with_PassiveTcpEstablishment' } // 5
  | { type: 'AutomaticStop'; notification?: Notification } // 8
  | { type: 'ConnectRetryTimer_Expires' } // 9
  | { type: 'HoldTimer_Expires' } // 10
  | { type: 'KeepaliveTimer_Expires' } // 11
  | { type: 'DelayOpenTimer_Expires' } // 12
  | { type: 'IdleHoldTimer_Expires' } // 13
  | { type: 'Tcp_CR_Acked' } // 16: our outgoing connection completed
  | { type: 'TcpConnectionConfirmed' } // 17: an incoming connection was accepted
  | { type: 'TcpConnectionFails' } // 18
  | { type: 'BGPOpen'; holdTime: number } // 19 (and 20 when DelayOpen runs: see below)
  | { type: 'BGPHeaderErr'; notification: Notification } // 21
  | { type: 'BGPOpenMsgErr'; notification: Notification } // 22
  | { type: 'OpenCollisionDump' } // 23
  | { type: 'NotifMsgVerErr' } // 24
  | { type: 'NotifMsg' } // 25
  | { type: 'KeepAliveMsg' } // 26
  | { type: 'UpdateMsg' } // 27
  | { type: 'UpdateMsgErr'; notification: Notification }; // 28

export type FsmAction =
  | { type: 'connect' }
  | { type: 'drop-connection' }
  | { type: 'send-open' }
  | { type: 'send-keepalive' }
  | { type: 'send-notification'; notification: Notification }
  /** Expire `seconds` from now; a timer already running is restarted. */
  | { type: 'start-timer'; timer: TimerName; seconds: number }
  | { type: 'stop-timer'; timer: TimerName }
  /** Entered Established: the RIB may start exchanging routes. */
  | { type: 'established' }
  /** Left Established or gave up the connection: release resources, withdraw routes. */
  | { type: 'release'; wasEstablished: boolean; reason: string };

export interface FsmConfig {
  /** Wait for the peer to connect; never initiate (RFC 4271 §8.1.1 PassiveTcpEstablishment). */
  passive: boolean;
  /** Our proposed hold time in seconds: 0, or 3 and above. */
  holdTime: number;
  /** Base ConnectRetryTime in seconds; doubled per consecutive failure up to the maximum. */
  connectRetryTime: number;
  connectRetryMaxTime: number;
  /** DelayOpenTime in seconds; 0 disables the DelayOpen timer (RFC 4271 §8.1.1). */
  delayOpenTime: number;
  /** Base IdleHoldTime in seconds before an automatic restart; doubled per failure. */
  idleHoldTime: number;
  idleHoldMaxTime: number;
}

export const DEFAULT_FSM_CONFIG: Readonly<FsmConfig> = Object.freeze({
  passive: false,
  holdTime: 90,
  connectRetryTime: 5,
  connectRetryMaxTime: 120,
  delayOpenTime: 0,
  idleHoldTime: 1,
  idleHoldMaxTime: 60,
});

/** RFC 4271 §8: "a large value" for the HoldTimer while waiting for the peer's OPEN. */
export const OPEN_HOLD_TIME = 240;

export interface FsmState {
  readonly name: StateName;
  readonly connectRetryCounter: number;
  /** Negotiated hold time (seconds), valid from OpenConfirm on; 0 means no keepalives. */
  readonly holdTime: number;
  /** Timers currently running, as the FSM believes. */
  readonly timers: readonly TimerName[];
  /** When the state was entered (for uptime). */
  readonly since: number;
  /** Whether the next start is passive (kept from the last Start event). */
  readonly passive: boolean;
}

export interface StepResult {
  state: FsmState;
  actions: FsmAction[];
}

export function initialState(now: number, passive = false): FsmState {
  return {
    name: 'Idle',
    connectRetryCounter: 0,
    holdTime: 0,
    timers: [],
    since: now,
    passive,
  };
}

/** RFC 4271 §4.4: the KeepaliveTimer runs at one third of the hold time. */
export function keepaliveSeconds(holdTime: number): number {
  return Math.max(1, Math.floor(holdTime / 3));
}

/** Exponential backoff: base × 2^(failures), capped. */
export function backoffSeconds(base: number, max: number, failures: number): number {
  return Math.min(max, base * 2 ** Math.min(failures, 16));
}

function cease(subcode: number): Notification {
  return { code: ErrorCode.CEASE, subcode };
}

/** RFC 6608 §4: which FSM error subcode an unexpected event gets in each state. */
function fsmError(state: StateName): Notification {
  const subcode =
    state === 'OpenSent'
      ? FsmSubcode.UNEXPECTED_MESSAGE_IN_OPENSENT
      : state === 'OpenConfirm'
        ? FsmSubcode.UNEXPECTED_MESSAGE_IN_OPENCONFIRM
        : state === 'Established'
          ? FsmSubcode.UNEXPECTED_MESSAGE_IN_ESTABLISHED
          : FsmSubcode.UNSPECIFIED;
  return { code: ErrorCode.FSM, subcode };
}

/** Builds the next state and actions, keeping track of which timers run. */
class Transition {
  readonly actions: FsmAction[] = [];
  private timers: Set<TimerName>;
  private counter: number;
  private holdTime: number;
  private passive: boolean;

  constructor(
    private readonly from: FsmState,
    private readonly config: FsmConfig,
    private readonly now: number,
  ) {
    this.timers = new Set(from.timers);
    this.counter = from.connectRetryCounter;
    this.holdTime = from.holdTime;
    this.passive = from.passive;
  }

  running(timer: TimerName): boolean {
    return this.timers.has(timer);
  }

  start(timer: TimerName, seconds: number): this {
    this.timers.add(timer);
    this.actions.push({ type: 'start-timer', timer, seconds });
    return this;
  }

  stop(timer: TimerName): this {
    if (this.timers.delete(timer)) this.actions.push({ type: 'stop-timer', timer });
    return this;
  }

  stopAll(): this {
    for (const timer of [...this.timers]) this.stop(timer);
    return this;
  }

  do(action: FsmAction): this {
    this.actions.push(action);
    return this;
  }

  startConnectRetry(): this {
    const c = this.config;
    return this.start(
      'connectRetry',
      backoffSeconds(c.connectRetryTime, c.connectRetryMaxTime, this.counter),
    );
  }

  setCounter(value: number): this {
    this.counter = value;
    return this;
  }

  setPassive(value: boolean): this {
    this.passive = value;
    return this;
  }

  /** RFC 4271 §8.2.2: after sending OPEN, the HoldTimer is set to a large value. */
  sendOpen(): this {
    return this.do({ type: 'send-open' }).start('hold', OPEN_HOLD_TIME);
  }

  /** RFC 4271 §4.2/§8.2.2: negotiated hold time is the smaller; 0 disables both timers. */
  negotiate(peerHoldTime: number): this {
    this.holdTime = Math.min(this.config.holdTime, peerHoldTime);
    this.stop('hold').stop('keepalive');
    if (this.holdTime > 0) {
      this.start('keepalive', keepaliveSeconds(this.holdTime));
      this.start('hold', this.holdTime);
    }
    return this;
  }

  /** Restart the HoldTimer on a KEEPALIVE or UPDATE (when the hold time is not zero). */
  restartHold(): this {
    // A start of a running timer restarts it (see the 'start-timer' action).
    if (this.holdTime > 0) this.start('hold', this.holdTime);
    return this;
  }

  /**
   * Give up the connection and go to Idle. `counter` is 'increment' for failures and
   * 'reset' for a manual stop. After a failure an IdleHold timer restarts the peer later.
   */
  toIdle(reason: string, counter: 'increment' | 'reset' | 'keep', restart: boolean): StepResult {
    const wasEstablished = this.from.name === 'Established';
    this.stopAll();
    this.do({ type: 'release', wasEstablished, reason }).do({ type: 'drop-connection' });
    if (counter === 'increment') this.counter += 1;
    if (counter === 'reset') this.counter = 0;
    if (restart) {
      const c = this.config;
      this.start(
        'idleHold',
        backoffSeconds(c.idleHoldTime, c.idleHoldMaxTime, Math.max(0, this.counter - 1)),
      );
    }
    return this.to('Idle');
  }

  to(name: StateName): StepResult {
    // Leaving Established for Idle is a new state even when it was already Idle before.
    const since = name === this.from.name ? this.from.since : this.now;
    return {
      state: {
        name,
        connectRetryCounter: this.counter,
        holdTime: name === 'Idle' || name === 'Connect' || name === 'Active' ? 0 : this.holdTime,
        timers: [...this.timers],
        since,
        passive: this.passive,
      },
      actions: this.actions,
    };
  }
}

/**
 * RFC 4271 §8.2.2: one step of the state machine. Events that the RFC says to ignore in a
 * state return the state unchanged with no actions.
 */
export function step(
  state: FsmState,
  event: FsmEvent,
  now: number,
  config: FsmConfig = DEFAULT_FSM_CONFIG,
): StepResult {
  // RFC 4271 §8.2.2 Established: a KEEPALIVE or UPDATE restarts the HoldTimer and changes
  // nothing else. A full table is one step per UPDATE: answered without building a transition.
  if (
    state.name === 'Established' &&
    (event.type === 'UpdateMsg' || event.type === 'KeepAliveMsg')
  ) {
    return {
      state,
      actions:
        state.holdTime > 0 ? [{ type: 'start-timer', timer: 'hold', seconds: state.holdTime }] : [],
    };
  }
  const t = new Transition(state, config, now);
  const idle = (reason: string, counter: 'increment' | 'reset' | 'keep', restart: boolean) =>
    t.toIdle(reason, counter, restart);
  const unchanged: StepResult = { state, actions: [] };

  switch (state.name) {
    case 'Idle':
      switch (event.type) {
        // RFC 4271 §8.2.2 Idle: a start initializes resources and the ConnectRetryTimer.
        case 'ManualStart':
        case 'AutomaticStart':
        case 'IdleHoldTimer_Expires':
          if (event.type !== 'IdleHoldTimer_Expires') t.setCounter(0);
          t.stop('idleHold');
          if (config.passive) {
            return t.setPassive(true).startConnectRetry().to('Active');
          }
          return t.setPassive(false).startConnectRetry().do({ type: 'connect' }).to('Connect');
        case 'ManualStart_with_PassiveTcpEstablishment':
        case 'AutomaticStart_with_PassiveTcpEstablishment':
          return t.setCounter(0).stop('idleHold').setPassive(true).startConnectRetry().to('Active');
        case 'ManualStop':
          // Ignored in Idle, but a pending automatic restart is cancelled.
          return t.stop('idleHold').setCounter(0).to('Idle');
        default:
          // RFC 4271 §8.2.2: any other event in Idle is ignored; an incoming connection is
          // refused by the session (it is not started).
          return unchanged;
      }

    case 'Connect':
      switch (event.type) {
        case 'ManualStop':
          return idle('manual stop', 'reset', false);
        case 'ConnectRetryTimer_Expires':
          // Drop the attempt, restart the timer, try again.
          t.do({ type: 'drop-connection' }).stop('delayOpen').stop('connectRetry');
          return t.startConnectRetry().do({ type: 'connect' }).to('Connect');
        case 'TcpConnectionFails':
          if (t.running('delayOpen')) {
            t.stop('delayOpen').stop('connectRetry');
            return t.startConnectRetry().do({ type: 'drop-connection' }).to('Active');
          }
          return idle('TCP connection failed', 'increment', true);
        default:
          return beforeOpen(t, state, event, config);
      }

    case 'Active':
      switch (event.type) {
        case 'ManualStop':
          if (t.running('delayOpen') && event.notification) {
            t.do({ type: 'send-notification', notification: event.notification });
          }
          return idle('manual stop', 'reset', false);
        case 'ConnectRetryTimer_Expires':
          if (state.passive) return t.stop('connectRetry').startConnectRetry().to('Active');
          t.stop('connectRetry');
          return t.startConnectRetry().do({ type: 'connect' }).to('Connect');
        case 'TcpConnectionFails':
          return idle('TCP connection failed', 'increment', true);
        default:
          return beforeOpen(t, state, event, config);
      }

    case 'OpenSent':
    case 'OpenConfirm':
    case 'Established': {
      const common = afterConnect(t, state, event);
      if (common) return common;
      return openedState(t, state, event);
    }
  }
}

/** Sends a NOTIFICATION and falls back to Idle. */
function notifyIdle(
  t: Transition,
  notification: Notification,
  reason: string,
  counter: 'increment' | 'reset' | 'keep',
  restart: boolean,
): StepResult {
  t.do({ type: 'send-notification', notification });
  return t.toIdle(reason, counter, restart);
}

/**
 * RFC 4271 §8.2.2: the events OpenSent, OpenConfirm and Established handle alike; null for
 * the rest.
 */
function afterConnect(t: Transition, state: FsmState, event: FsmEvent): StepResult | null {
  switch (event.type) {
    case 'ManualStart':
    case 'AutomaticStart':
    case 'ManualStart_with_PassiveTcpEstablishment':
    case 'AutomaticStart_with_PassiveTcpEstablishment':
      return { state, actions: [] };
    case 'ManualStop':
      return notifyIdle(
        t,
        event.notification ?? cease(CeaseSubcode.ADMINISTRATIVE_SHUTDOWN),
        'manual stop',
        'reset',
        false,
      );
    case 'AutomaticStop':
      return notifyIdle(
        t,
        event.notification ?? cease(CeaseSubcode.ADMINISTRATIVE_SHUTDOWN),
        'automatic stop',
        'increment',
        true,
      );
    case 'HoldTimer_Expires':
      return notifyIdle(
        t,
        { code: ErrorCode.HOLD_TIMER_EXPIRED, subcode: 0 },
        'hold timer expired',
        'increment',
        true,
      );
    case 'BGPHeaderErr':
    case 'BGPOpenMsgErr':
      return notifyIdle(t, event.notification, 'header or OPEN error', 'increment', true);
    default:
      return null;
  }
}

/** The events particular to OpenSent, OpenConfirm and Established (RFC 4271 §8.2.2). */
function openedState(t: Transition, state: FsmState, event: FsmEvent): StepResult {
  const name = state.name;
  // KEEPALIVE timer: OpenConfirm and Established send one and restart the timer.
  if (event.type === 'KeepaliveTimer_Expires' && name !== 'OpenSent') {
    t.do({ type: 'send-keepalive' }).stop('keepalive');
    return t.start('keepalive', keepaliveSeconds(state.holdTime)).to(name);
  }
  // Collision: the connection we give up gets Cease / Connection Collision Resolution.
  // Established does not take part (CollisionDetectEstablishedState is off).
  if (event.type === 'OpenCollisionDump' && name !== 'Established') {
    return notifyIdle(
      t,
      cease(CeaseSubcode.CONNECTION_COLLISION_RESOLUTION),
      'connection collision',
      'increment',
      true,
    );
  }
  if (event.type === 'NotifMsgVerErr') {
    return t.toIdle(
      'peer rejected the version',
      name === 'Established' ? 'increment' : 'keep',
      true,
    );
  }
  if ((event.type === 'TcpConnectionFails' || event.type === 'NotifMsg') && name !== 'OpenSent') {
    const why = event.type === 'NotifMsg' ? 'NOTIFICATION received' : 'TCP connection failed';
    return t.toIdle(why, 'increment', true);
  }
  switch (name) {
    case 'OpenSent':
      if (event.type === 'TcpConnectionFails') {
        // RFC 4271 §8.2.2: close, restart the ConnectRetryTimer, continue listening in Active.
        t.stop('hold').stop('connectRetry');
        return t.do({ type: 'drop-connection' }).startConnectRetry().to('Active');
      }
      if (event.type === 'BGPOpen') {
        t.stop('delayOpen').stop('connectRetry').do({ type: 'send-keepalive' });
        return t.negotiate(event.holdTime).to('OpenConfirm');
      }
      break;
    case 'OpenConfirm':
      if (event.type === 'KeepAliveMsg') {
        t.restartHold().do({ type: 'established' });
        return t.to('Established');
      }
      break;
    case 'Established':
      if (event.type === 'KeepAliveMsg' || event.type === 'UpdateMsg') {
        return t.restartHold().to('Established');
      }
      if (event.type === 'UpdateMsgErr') {
        return notifyIdle(t, event.notification, 'UPDATE error', 'increment', true);
      }
      break;
    default:
      break;
  }
  // RFC 6608: anything else is an FSM error (this includes BGPOpen in Established).
  return notifyIdle(t, fsmError(name), `unexpected ${event.type} in ${name}`, 'increment', true);
}

/** RFC 4271 §8.2.2: the events Connect and Active handle alike (no OPEN sent yet). */
function beforeOpen(
  t: Transition,
  state: FsmState,
  event: FsmEvent,
  config: FsmConfig,
): StepResult {
  const name = state.name;
  switch (event.type) {
    case 'ManualStart':
    case 'AutomaticStart':
    case 'ManualStart_with_PassiveTcpEstablishment':
    case 'AutomaticStart_with_PassiveTcpEstablishment':
      return { state, actions: [] };
    case 'DelayOpenTimer_Expires':
      t.stop('delayOpen').stop('connectRetry');
      return t.sendOpen().to('OpenSent');
    case 'Tcp_CR_Acked':
    case 'TcpConnectionConfirmed':
      t.stop('connectRetry');
      if (config.delayOpenTime > 0) return t.start('delayOpen', config.delayOpenTime).to(name);
      return t.sendOpen().to('OpenSent');
    case 'BGPOpen':
      if (t.running('delayOpen')) {
        // RFC 4271 §8.2.2 event 20: OPEN while DelayOpen runs completes the exchange.
        t.stop('connectRetry').stop('delayOpen');
        t.do({ type: 'send-open' }).do({ type: 'send-keepalive' });
        return t.negotiate(event.holdTime).to('OpenConfirm');
      }
      return t.toIdle(`unexpected OPEN in ${name}`, 'increment', true);
    case 'BGPHeaderErr':
    case 'BGPOpenMsgErr':
      return notifyIdle(t, event.notification, 'header or OPEN error', 'increment', true);
    case 'NotifMsgVerErr':
      return t.toIdle(
        'peer rejected the version',
        t.running('delayOpen') ? 'keep' : 'increment',
        true,
      );
    default:
      return t.toIdle(`unexpected ${event.type} in ${name}`, 'increment', true);
  }
}
