// The real clock for the kernel sync: wall time and Node timers. Tests inject a fake clock.
// Must not hold any state of its own; KernelSync.stop() clears every timer it armed.

import type { Clock, TimerHandle } from './types.js';

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn: () => void, ms: number): TimerHandle => setTimeout(fn, ms),
  clearTimeout: (h: TimerHandle): void => {
    clearTimeout(h as ReturnType<typeof setTimeout>);
  },
};
