// Table tests of the RFC 4271 §8.2.2 state machine on a fake clock: each row is
// (state, event) -> (next state, actions), read off the RFC's per-state event lists.

import t from 'tap';
import {
  DEFAULT_FSM_CONFIG,
  OPEN_HOLD_TIME,
  initialState,
  step,
  type FsmAction,
  type FsmConfig,
  type FsmEvent,
  type FsmState,
  type StateName,
  type TimerName,
} from '../../src/session/fsm.js';

const NOW = 1_000_000;
const cfg: FsmConfig = { ...DEFAULT_FSM_CONFIG, holdTime: 90, connectRetryTime: 5 };

function inState(
  name: StateName,
  timers: TimerName[] = [],
  holdTime = 0,
  extra: Partial<FsmState> = {},
): FsmState {
  return {
    name,
    timers,
    holdTime,
    connectRetryCounter: 0,
    since: NOW - 1000,
    passive: false,
    ...extra,
  };
}

const notif = (code: number, subcode: number) => ({ code, subcode });
const sendNotif = (code: number, subcode: number): FsmAction => ({
  type: 'send-notification',
  notification: notif(code, subcode),
});
const has = (actions: FsmAction[], a: FsmAction) =>
  actions.some((x) => JSON.stringify(x) === JSON.stringify(a));

interface Row {
  name: string;
  from: FsmState;
  event: FsmEvent;
  to: StateName;
  /** Actions that must be present. */
  must: FsmAction[];
  /** Action types that must be absent. */
  mustNot?: FsmAction['type'][];
  timersAfter?: TimerName[];
  config?: Partial<FsmConfig>;
}

const HOLD_EXPIRED = sendNotif(4, 0);
const CEASE_ADMIN_SHUTDOWN = sendNotif(6, 2);
const CEASE_COLLISION = sendNotif(6, 7);

const rows: Row[] = [
  // --- Idle (RFC 4271 §8.2.2 "Idle state")
  {
    name: 'Idle + ManualStart: start ConnectRetryTimer, initiate TCP, go to Connect',
    from: inState('Idle'),
    event: { type: 'ManualStart' },
    to: 'Connect',
    must: [{ type: 'start-timer', timer: 'connectRetry', seconds: 5 }, { type: 'connect' }],
    timersAfter: ['connectRetry'],
  },
  {
    name: 'Idle + ManualStart (passive config): listen in Active, no connect',
    from: inState('Idle'),
    event: { type: 'ManualStart' },
    to: 'Active',
    must: [{ type: 'start-timer', timer: 'connectRetry', seconds: 5 }],
    mustNot: ['connect'],
    config: { passive: true },
  },
  {
    name: 'Idle + ManualStart_with_PassiveTcpEstablishment goes to Active',
    from: inState('Idle'),
    event: { type: 'ManualStart_with_PassiveTcpEstablishment' },
    to: 'Active',
    must: [{ type: 'start-timer', timer: 'connectRetry', seconds: 5 }],
    mustNot: ['connect'],
  },
  {
    name: 'Idle ignores a KEEPALIVE',
    from: inState('Idle'),
    event: { type: 'KeepAliveMsg' },
    to: 'Idle',
    must: [],
    mustNot: ['send-notification', 'connect'],
  },
  {
    name: 'Idle ignores ManualStop but cancels a pending restart',
    from: inState('Idle', ['idleHold']),
    event: { type: 'ManualStop' },
    to: 'Idle',
    must: [{ type: 'stop-timer', timer: 'idleHold' }],
    timersAfter: [],
  },
  {
    name: 'Idle + IdleHoldTimer_Expires restarts automatically',
    from: inState('Idle', ['idleHold']),
    event: { type: 'IdleHoldTimer_Expires' },
    to: 'Connect',
    must: [{ type: 'connect' }],
  },
  // --- Connect
  {
    name: 'Connect + Tcp_CR_Acked: stop ConnectRetry, send OPEN, large hold timer, OpenSent',
    from: inState('Connect', ['connectRetry']),
    event: { type: 'Tcp_CR_Acked' },
    to: 'OpenSent',
    must: [
      { type: 'stop-timer', timer: 'connectRetry' },
      { type: 'send-open' },
      { type: 'start-timer', timer: 'hold', seconds: OPEN_HOLD_TIME },
    ],
    timersAfter: ['hold'],
  },
  {
    name: 'Connect + Tcp_CR_Acked with DelayOpen: start DelayOpen timer, stay in Connect',
    from: inState('Connect', ['connectRetry']),
    event: { type: 'Tcp_CR_Acked' },
    to: 'Connect',
    must: [{ type: 'start-timer', timer: 'delayOpen', seconds: 7 }],
    mustNot: ['send-open'],
    config: { delayOpenTime: 7 },
  },
  {
    name: 'Connect + DelayOpenTimer_Expires: send OPEN, go to OpenSent',
    from: inState('Connect', ['delayOpen']),
    event: { type: 'DelayOpenTimer_Expires' },
    to: 'OpenSent',
    must: [{ type: 'send-open' }],
    config: { delayOpenTime: 7 },
  },
  {
    name: 'Connect + BGPOpen while DelayOpen runs: OPEN + KEEPALIVE, OpenConfirm (event 20)',
    from: inState('Connect', ['delayOpen']),
    event: { type: 'BGPOpen', holdTime: 30 },
    to: 'OpenConfirm',
    must: [
      { type: 'send-open' },
      { type: 'send-keepalive' },
      { type: 'start-timer', timer: 'keepalive', seconds: 10 },
      { type: 'start-timer', timer: 'hold', seconds: 30 },
    ],
    config: { delayOpenTime: 7 },
  },
  {
    name: 'Connect + ConnectRetryTimer_Expires: drop, restart timer, connect again',
    from: inState('Connect', ['connectRetry']),
    event: { type: 'ConnectRetryTimer_Expires' },
    to: 'Connect',
    must: [{ type: 'drop-connection' }, { type: 'connect' }],
    timersAfter: ['connectRetry'],
  },
  {
    name: 'Connect + TcpConnectionFails (no DelayOpen): Idle, counter incremented',
    from: inState('Connect', ['connectRetry']),
    event: { type: 'TcpConnectionFails' },
    to: 'Idle',
    must: [{ type: 'drop-connection' }],
  },
  {
    name: 'Connect + TcpConnectionFails with DelayOpen running: back to Active',
    from: inState('Connect', ['delayOpen']),
    event: { type: 'TcpConnectionFails' },
    to: 'Active',
    must: [{ type: 'stop-timer', timer: 'delayOpen' }],
    config: { delayOpenTime: 7 },
  },
  {
    name: 'Connect + ManualStop: Idle, no restart timer',
    from: inState('Connect', ['connectRetry']),
    event: { type: 'ManualStop' },
    to: 'Idle',
    must: [{ type: 'stop-timer', timer: 'connectRetry' }, { type: 'drop-connection' }],
    timersAfter: [],
  },
  {
    name: 'Connect + KEEPALIVE (unexpected): Idle',
    from: inState('Connect', ['connectRetry']),
    event: { type: 'KeepAliveMsg' },
    to: 'Idle',
    must: [{ type: 'drop-connection' }],
  },
  // --- Active
  {
    name: 'Active + TcpConnectionConfirmed: send OPEN, OpenSent',
    from: inState('Active', ['connectRetry']),
    event: { type: 'TcpConnectionConfirmed' },
    to: 'OpenSent',
    must: [{ type: 'send-open' }, { type: 'start-timer', timer: 'hold', seconds: OPEN_HOLD_TIME }],
  },
  {
    name: 'Active + ConnectRetryTimer_Expires (active peer): connect, go to Connect',
    from: inState('Active', ['connectRetry']),
    event: { type: 'ConnectRetryTimer_Expires' },
    to: 'Connect',
    must: [{ type: 'connect' }],
  },
  {
    name: 'Active + ConnectRetryTimer_Expires (passive peer): keep listening',
    from: inState('Active', ['connectRetry'], 0, { passive: true }),
    event: { type: 'ConnectRetryTimer_Expires' },
    to: 'Active',
    must: [{ type: 'start-timer', timer: 'connectRetry', seconds: 5 }],
    mustNot: ['connect'],
  },
  {
    name: 'Active + TcpConnectionFails: Idle',
    from: inState('Active', ['connectRetry']),
    event: { type: 'TcpConnectionFails' },
    to: 'Idle',
    must: [{ type: 'drop-connection' }],
  },
  {
    name: 'Active + BGPOpenMsgErr: send the NOTIFICATION, Idle',
    from: inState('Active', ['connectRetry']),
    event: { type: 'BGPOpenMsgErr', notification: notif(2, 2) },
    to: 'Idle',
    must: [sendNotif(2, 2)],
  },
  // --- OpenSent
  {
    name: 'OpenSent + BGPOpen: KEEPALIVE, negotiated hold = min(ours 90, peer 30)',
    from: inState('OpenSent', ['hold']),
    event: { type: 'BGPOpen', holdTime: 30 },
    to: 'OpenConfirm',
    must: [
      { type: 'send-keepalive' },
      { type: 'start-timer', timer: 'keepalive', seconds: 10 },
      { type: 'start-timer', timer: 'hold', seconds: 30 },
    ],
    timersAfter: ['keepalive', 'hold'],
  },
  {
    name: 'OpenSent + BGPOpen with hold time 0: no keepalive and no hold timer',
    from: inState('OpenSent', ['hold']),
    event: { type: 'BGPOpen', holdTime: 0 },
    to: 'OpenConfirm',
    must: [{ type: 'send-keepalive' }, { type: 'stop-timer', timer: 'hold' }],
    timersAfter: [],
  },
  {
    name: 'OpenSent + HoldTimer_Expires: NOTIFICATION Hold Timer Expired, Idle',
    from: inState('OpenSent', ['hold']),
    event: { type: 'HoldTimer_Expires' },
    to: 'Idle',
    must: [HOLD_EXPIRED, { type: 'drop-connection' }],
  },
  {
    name: 'OpenSent + TcpConnectionFails: close and listen in Active',
    from: inState('OpenSent', ['hold']),
    event: { type: 'TcpConnectionFails' },
    to: 'Active',
    must: [{ type: 'drop-connection' }, { type: 'start-timer', timer: 'connectRetry', seconds: 5 }],
    timersAfter: ['connectRetry'],
  },
  {
    name: 'OpenSent + OpenCollisionDump: Cease / Connection Collision Resolution',
    from: inState('OpenSent', ['hold']),
    event: { type: 'OpenCollisionDump' },
    to: 'Idle',
    must: [CEASE_COLLISION],
  },
  {
    name: 'OpenSent + KEEPALIVE: FSM error, Unexpected Message in OpenSent (RFC 6608)',
    from: inState('OpenSent', ['hold']),
    event: { type: 'KeepAliveMsg' },
    to: 'Idle',
    must: [sendNotif(5, 1)],
  },
  {
    name: 'OpenSent + UPDATE: FSM error subcode 1',
    from: inState('OpenSent', ['hold']),
    event: { type: 'UpdateMsg' },
    to: 'Idle',
    must: [sendNotif(5, 1)],
  },
  {
    name: 'OpenSent + ManualStop: Cease / Administrative Shutdown',
    from: inState('OpenSent', ['hold']),
    event: { type: 'ManualStop' },
    to: 'Idle',
    must: [CEASE_ADMIN_SHUTDOWN],
    timersAfter: [],
  },
  {
    name: 'OpenSent + NotifMsgVerErr: Idle without sending a NOTIFICATION',
    from: inState('OpenSent', ['hold']),
    event: { type: 'NotifMsgVerErr' },
    to: 'Idle',
    must: [{ type: 'drop-connection' }],
    mustNot: ['send-notification'],
  },
  // --- OpenConfirm
  {
    name: 'OpenConfirm + KEEPALIVE: Established, hold timer restarted',
    from: inState('OpenConfirm', ['hold', 'keepalive'], 30),
    event: { type: 'KeepAliveMsg' },
    to: 'Established',
    must: [{ type: 'start-timer', timer: 'hold', seconds: 30 }, { type: 'established' }],
  },
  {
    name: 'OpenConfirm + KeepaliveTimer_Expires: send KEEPALIVE, restart the timer',
    from: inState('OpenConfirm', ['hold', 'keepalive'], 30),
    event: { type: 'KeepaliveTimer_Expires' },
    to: 'OpenConfirm',
    must: [{ type: 'send-keepalive' }, { type: 'start-timer', timer: 'keepalive', seconds: 10 }],
  },
  {
    name: 'OpenConfirm + UPDATE: FSM error subcode 2',
    from: inState('OpenConfirm', ['hold', 'keepalive'], 30),
    event: { type: 'UpdateMsg' },
    to: 'Idle',
    must: [sendNotif(5, 2)],
  },
  {
    name: 'OpenConfirm + NOTIFICATION: Idle, none sent back',
    from: inState('OpenConfirm', ['hold', 'keepalive'], 30),
    event: { type: 'NotifMsg' },
    to: 'Idle',
    must: [{ type: 'drop-connection' }],
    mustNot: ['send-notification'],
  },
  {
    name: 'OpenConfirm + HoldTimer_Expires: Hold Timer Expired',
    from: inState('OpenConfirm', ['hold', 'keepalive'], 30),
    event: { type: 'HoldTimer_Expires' },
    to: 'Idle',
    must: [HOLD_EXPIRED],
  },
  // --- Established
  {
    // A start of a running timer is its restart (TimerOwner keeps that cheap).
    name: 'Established + UPDATE: hold timer restarted',
    from: inState('Established', ['hold', 'keepalive'], 30),
    event: { type: 'UpdateMsg' },
    to: 'Established',
    must: [{ type: 'start-timer', timer: 'hold', seconds: 30 }],
    mustNot: ['stop-timer', 'send-keepalive', 'release'],
    timersAfter: ['hold', 'keepalive'],
  },
  {
    name: 'Established + KEEPALIVE: hold timer restarted',
    from: inState('Established', ['hold', 'keepalive'], 30),
    event: { type: 'KeepAliveMsg' },
    to: 'Established',
    must: [{ type: 'start-timer', timer: 'hold', seconds: 30 }],
    mustNot: ['stop-timer', 'send-keepalive', 'release'],
    timersAfter: ['hold', 'keepalive'],
  },
  {
    name: 'Established + KEEPALIVE with hold time 0: nothing to restart',
    from: inState('Established', [], 0),
    event: { type: 'KeepAliveMsg' },
    to: 'Established',
    must: [],
    mustNot: ['start-timer'],
  },
  {
    name: 'Established + HoldTimer_Expires: NOTIFICATION, routes released',
    from: inState('Established', ['hold', 'keepalive'], 30),
    event: { type: 'HoldTimer_Expires' },
    to: 'Idle',
    must: [HOLD_EXPIRED, { type: 'release', wasEstablished: true, reason: 'hold timer expired' }],
  },
  {
    name: 'Established + UpdateMsgErr: send its NOTIFICATION',
    from: inState('Established', ['hold', 'keepalive'], 30),
    event: { type: 'UpdateMsgErr', notification: notif(3, 1) },
    to: 'Idle',
    must: [sendNotif(3, 1)],
  },
  {
    name: 'Established + BGPOpen: FSM error, Unexpected Message in Established',
    from: inState('Established', ['hold', 'keepalive'], 30),
    event: { type: 'BGPOpen', holdTime: 90 },
    to: 'Idle',
    must: [sendNotif(5, 3)],
  },
  {
    name: 'Established + ManualStop with a shutdown message keeps the caller NOTIFICATION',
    from: inState('Established', ['hold', 'keepalive'], 30),
    event: { type: 'ManualStop', notification: { code: 6, subcode: 2, data: Buffer.from([0]) } },
    to: 'Idle',
    must: [
      { type: 'send-notification', notification: { code: 6, subcode: 2, data: Buffer.from([0]) } },
    ],
    timersAfter: [],
  },
];

for (const row of rows) {
  t.test(row.name, async (t) => {
    const config = { ...cfg, ...row.config };
    const { state, actions } = step(row.from, row.event, NOW, config);
    t.equal(state.name, row.to, 'next state');
    for (const a of row.must) t.ok(has(actions, a), `has ${JSON.stringify(a)}`);
    for (const type of row.mustNot ?? []) {
      t.notOk(
        actions.some((a) => a.type === type),
        `no ${type}`,
      );
    }
    if (row.timersAfter) t.same([...state.timers].sort(), [...row.timersAfter].sort(), 'timers');
    // Invariant: every state change stamps the clock; staying keeps the old stamp.
    t.equal(state.since, state.name === row.from.name ? row.from.since : NOW, 'since');
    // Invariant: a timer that is stopped must have been running.
    for (const a of actions) {
      if (a.type === 'stop-timer')
        t.ok(row.from.timers.includes(a.timer) || actions.indexOf(a) > 0);
    }
  });
}

t.test('ConnectRetry backs off exponentially after consecutive failures, capped', async (t) => {
  let state = initialState(NOW);
  const seen: number[] = [];
  let clock = NOW;
  ({ state } = step(state, { type: 'ManualStart' }, clock, cfg));
  for (let i = 0; i < 8; i++) {
    clock += 1000;
    ({ state } = step(state, { type: 'TcpConnectionFails' }, clock, cfg));
    t.equal(state.name, 'Idle');
    t.equal(state.connectRetryCounter, i + 1, 'counter counts failures');
    const r = step(state, { type: 'IdleHoldTimer_Expires' }, clock, cfg);
    const cr = r.actions.find((a) => a.type === 'start-timer' && a.timer === 'connectRetry');
    t.ok(cr && cr.type === 'start-timer');
    if (cr && cr.type === 'start-timer') seen.push(cr.seconds);
    state = r.state;
  }
  // 5 s base doubles per failure up to the 120 s cap: 10, 20, 40, 80, 120, 120 ...
  t.same(seen, [10, 20, 40, 80, 120, 120, 120, 120]);
});

t.test('a manual stop resets the failure counter and schedules no restart', async (t) => {
  let { state } = step(initialState(NOW), { type: 'ManualStart' }, NOW, cfg);
  ({ state } = step(state, { type: 'TcpConnectionFails' }, NOW, cfg));
  t.equal(state.connectRetryCounter, 1);
  ({ state } = step(state, { type: 'ManualStop' }, NOW, cfg));
  t.equal(state.connectRetryCounter, 0);
  t.same(state.timers, []);
});

t.test('a full active open reaches Established and keeps it with keepalives', async (t) => {
  let clock = NOW;
  const trace: string[] = [];
  const feed = (event: FsmEvent) => {
    const r = step(state, event, clock, cfg);
    trace.push(`${state.name} -${event.type}-> ${r.state.name}`);
    state = r.state;
    return r.actions;
  };
  let state = initialState(clock);
  feed({ type: 'ManualStart' });
  feed({ type: 'Tcp_CR_Acked' });
  feed({ type: 'BGPOpen', holdTime: 9 });
  t.equal(state.holdTime, 9, 'negotiated hold time is the smaller one');
  const est = feed({ type: 'KeepAliveMsg' });
  t.ok(est.some((a) => a.type === 'established'));
  clock += 3000;
  const ka = feed({ type: 'KeepaliveTimer_Expires' });
  t.ok(ka.some((a) => a.type === 'send-keepalive'));
  t.equal(state.name, 'Established');
  t.equal(state.since, NOW, 'uptime counts from entering Established');
  t.same(trace, [
    'Idle -ManualStart-> Connect',
    'Connect -Tcp_CR_Acked-> OpenSent',
    'OpenSent -BGPOpen-> OpenConfirm',
    'OpenConfirm -KeepAliveMsg-> Established',
    'Established -KeepaliveTimer_Expires-> Established',
  ]);
});
