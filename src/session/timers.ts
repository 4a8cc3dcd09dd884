// The one owner of a connection's timers: turns the state machine's start/stop actions into
// scheduled callbacks on an injected clock, and each expiry into exactly one FSM event.
// RFC 4271 §8 (timer events), §10 (jitter on ConnectRetry and Keepalive timers).

import type { TimerName } from './fsm.js';

/** The clock edge every timer goes through; tests pass a fake one. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
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

export class TimerOwner {
  private readonly handles = new Map<TimerName, unknown>();

  constructor(
    private readonly clock: Clock,
    private readonly onExpire: (timer: TimerName) => void,
    private readonly random: () => number = Math.random,
  ) {}

  start(timer: TimerName, seconds: number): void {
    this.stop(timer);
    const factor = JITTERED.has(timer) ? 0.75 + 0.25 * this.random() : 1;
    const handle = this.clock.setTimeout(
      () => {
        // Only the latest start of a timer may fire; a stale handle is ignored.
        if (this.handles.get(timer) !== handle) return;
        this.handles.delete(timer);
        this.onExpire(timer);
      },
      Math.round(seconds * 1000 * factor),
    );
    this.handles.set(timer, handle);
  }

  stop(timer: TimerName): void {
    const handle = this.handles.get(timer);
    if (handle === undefined) return;
    this.clock.clearTimeout(handle);
    this.handles.delete(timer);
  }

  stopAll(): void {
    for (const timer of [...this.handles.keys()]) this.stop(timer);
  }

  running(): TimerName[] {
    return [...this.handles.keys()];
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
