// The one owner of a connection's timers: turns the state machine's start/stop actions into
// scheduled callbacks on an injected clock, and each expiry into exactly one FSM event.
// RFC 4271 §8 (timer events), §10 (jitter on ConnectRetry and Keepalive timers).

import type { TimerName } from './fsm.js';

/** The clock edge every timer goes through; tests pass a fake one. */
export interface Clock {
  /** Wall-clock time, epoch ms: for timestamps shown to operators. */
  now(): number;
  /**
   * Monotonic ms from an arbitrary origin: for measuring intervals. Never steps with the wall
   * clock (NTP, an operator's `date`), so timer deadlines stay right.
   */
  monotonic(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => {
    const h = setTimeout(fn, ms);
    // A timer alone never keeps the daemon alive; sockets and the control server do.
    h.unref();
    return h;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** RFC 4271 §10: these timers are jittered by a random factor between 0.75 and 1.0. */
const JITTERED: ReadonlySet<TimerName> = new Set(['connectRetry', 'keepalive', 'idleHold']);

/** One running timer: when it is due, and the scheduled callback that checks. */
interface Running {
  /** Monotonic ms at which the timer expires. */
  deadline: number;
  /** Monotonic ms at which the scheduled callback runs (never after `deadline`). */
  wakeAt: number;
  handle: unknown;
}

/**
 * Restarting a running timer to a later deadline only moves the deadline: the callback already
 * scheduled wakes up, sees the deadline is later, and sleeps again for the rest. The Hold Timer
 * is restarted on every message received (RFC 4271 §8.2.2), which on a full table is tens of
 * thousands of times a second; this keeps that to a number store. Deadlines are kept on the
 * monotonic clock, so a wall-clock step neither fires a timer early nor holds one back.
 */
export class TimerOwner {
  private readonly timers = new Map<TimerName, Running>();

  constructor(
    private readonly clock: Clock,
    private readonly onExpire: (timer: TimerName) => void,
    private readonly random: () => number = Math.random,
  ) {}

  start(timer: TimerName, seconds: number): void {
    const factor = JITTERED.has(timer) ? 0.75 + 0.25 * this.random() : 1;
    const ms = Math.round(seconds * 1000 * factor);
    const deadline = this.clock.monotonic() + ms;
    const t = this.timers.get(timer);
    if (t !== undefined && t.wakeAt <= deadline) {
      t.deadline = deadline;
      return;
    }
    this.stop(timer);
    this.schedule(timer, { deadline, wakeAt: deadline, handle: null }, ms);
  }

  private schedule(timer: TimerName, t: Running, ms: number): void {
    const handle = this.clock.setTimeout(() => {
      // Only the latest schedule of a timer may act; a stale handle is ignored.
      if (this.timers.get(timer) !== t || t.handle !== handle) return;
      const left = t.deadline - this.clock.monotonic();
      if (left > 0) {
        // Restarted since this wake-up was scheduled: sleep for the rest.
        t.wakeAt = t.deadline;
        this.schedule(timer, t, Math.ceil(left));
        return;
      }
      this.timers.delete(timer);
      this.onExpire(timer);
    }, ms);
    t.handle = handle;
    this.timers.set(timer, t);
  }

  stop(timer: TimerName): void {
    const t = this.timers.get(timer);
    if (t === undefined) return;
    this.clock.clearTimeout(t.handle);
    this.timers.delete(timer);
  }

  stopAll(): void {
    for (const timer of [...this.timers.keys()]) this.stop(timer);
  }

  running(): TimerName[] {
    return [...this.timers.keys()];
  }
}

/** A manual clock for tests: time moves only when `advance` is called. */
export class FakeClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  monotonic(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.time + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** Moves time forward, firing due callbacks in time order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.pending) {
        if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
      }
      if (!next) break;
      this.pending.delete(next[0]);
      this.time = next[1].at;
      next[1].fn();
    }
    this.time = end;
  }
}
