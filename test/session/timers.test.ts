// TimerOwner: each start of a timer means "expire `seconds` from now", whatever happened before;
// restarts to a later deadline are kept without rescheduling, and deadlines follow the monotonic
// clock only. Checked against a model of expiry times on a fake clock.
import fc from 'fast-check';
import t from 'tap';
import type { TimerName } from '../../src/session/fsm.js';
import { FakeClock, TimerOwner, type Clock } from '../../src/session/timers.js';

const NAMES: TimerName[] = ['hold', 'keepalive', 'connectRetry'];

t.test(
  'expiries match a model of "last start + duration" through random starts and stops',
  async () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom('start', 'start', 'start', 'stop', 'advance'),
            fc.constantFrom(...NAMES),
            fc.integer({ min: 1, max: 5 }),
            fc.integer({ min: 0, max: 4000 }),
          ),
          { maxLength: 60 },
        ),
        (ops) => {
          const clock = new FakeClock(1_000);
          const fired: [number, TimerName][] = [];
          // random() = 1: no jitter, so the model can predict keepalive/connectRetry too.
          const timers = new TimerOwner(
            clock,
            (n) => fired.push([clock.monotonic(), n]),
            () => 1,
          );
          const due = new Map<TimerName, number>();
          const expected: [number, TimerName][] = [];
          const advance = (ms: number): void => {
            const end = clock.monotonic() + ms;
            // The model's expiries up to `end`, in time order.
            for (;;) {
              let next: [TimerName, number] | null = null;
              for (const [n, at] of due) if (at <= end && (!next || at < next[1])) next = [n, at];
              if (!next) break;
              due.delete(next[0]);
              expected.push([next[1], next[0]]);
            }
            clock.advance(ms);
          };
          for (const [op, name, seconds, ms] of ops) {
            if (op === 'start') {
              timers.start(name, seconds);
              due.set(name, clock.monotonic() + seconds * 1000);
            } else if (op === 'stop') {
              timers.stop(name);
              due.delete(name);
            } else advance(ms);
            const running = new Set(timers.running());
            if (running.size !== due.size || [...due.keys()].some((n) => !running.has(n)))
              return false;
          }
          advance(10_000);
          // Timers due at the same moment may fire in either order.
          const order = (a: [number, TimerName], b: [number, TimerName]): number =>
            a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);
          return JSON.stringify(fired.sort(order)) === JSON.stringify(expected.sort(order));
        },
      ),
      { numRuns: 2000 },
    );
  },
);

t.test('a restart to a later deadline schedules nothing new until the first wake-up', async (t) => {
  const clock = new FakeClock(0);
  let scheduled = 0;
  const counting: Clock = {
    now: () => clock.now(),
    monotonic: () => clock.monotonic(),
    setTimeout: (fn, ms) => {
      scheduled++;
      return clock.setTimeout(fn, ms);
    },
    clearTimeout: (h) => clock.clearTimeout(h),
  };
  const fired: number[] = [];
  const timers = new TimerOwner(counting, () => fired.push(clock.monotonic()));
  timers.start('hold', 90);
  for (let i = 0; i < 1000; i++) {
    clock.advance(10);
    timers.start('hold', 90);
  }
  t.equal(scheduled, 1, 'one callback for a thousand restarts');
  clock.advance(89_999);
  t.same(fired, [], 'not expired before 90 s after the last restart');
  clock.advance(1);
  t.same(fired, [100_000], 'expired exactly 90 s after the last restart');
  t.equal(scheduled, 2, 'one more wake-up for the rest of the time');
});

t.test('deadlines follow the monotonic clock, not the wall clock', async (t) => {
  const clock = new FakeClock(0);
  let wallOffset = 0;
  const stepping: Clock = {
    now: () => clock.now() + wallOffset,
    monotonic: () => clock.monotonic(),
    setTimeout: (fn, ms) => clock.setTimeout(fn, ms),
    clearTimeout: (h) => clock.clearTimeout(h),
  };
  const fired: number[] = [];
  const timers = new TimerOwner(stepping, () => fired.push(clock.monotonic()));
  timers.start('hold', 3);
  clock.advance(1000);
  wallOffset = -3_600_000; // the wall clock steps back an hour
  timers.start('hold', 3);
  clock.advance(1000);
  wallOffset = 3_600_000; // and forward two
  clock.advance(1999);
  t.same(fired, [], 'neither step fires it early');
  clock.advance(1);
  t.same(fired, [4000], 'nor holds it back');
});
