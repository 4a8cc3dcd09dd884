// Watches `ip monitor label route address` and turns its text into events: route changes (for
// drift detection) and address changes (the connected segments moved). Must not decide what is
// drift; the sync compares events with what it installed. iproute2 6.1 prints monitor as text.

import { parseMonitorRoute, type MonitorRouteEvent } from './routes.js';
import type { CommandRunner, StreamHandle } from './types.js';

export interface MonitorHandlers {
  route(ev: MonitorRouteEvent): void;
  address(): void;
  /** Events may have been lost (netlink overrun, a split event): verify with a full read. */
  uncertain(why: string): void;
  exit(code: number | null, stderr: string): void;
}

export const MONITOR_ARGS = ['monitor', 'label', 'route', 'address'] as const;

export class RouteMonitor {
  private handle: StreamHandle | null = null;
  private pending: { label: string; lines: string[] } | null = null;
  private flushQueued = false;

  constructor(
    private readonly runner: CommandRunner,
    private readonly handlers: MonitorHandlers,
  ) {}

  start(): void {
    const handle: StreamHandle = this.runner.stream(
      MONITOR_ARGS,
      (line) => {
        if (this.handle === handle) this.onLine(line);
      },
      (code, stderr) => {
        // An exit we asked for (stop) is not reported.
        if (this.handle !== handle) return;
        this.flush();
        this.handle = null;
        this.handlers.exit(code, stderr);
      },
    );
    this.handle = handle;
  }

  stop(): void {
    const h = this.handle;
    this.handle = null;
    this.pending = null;
    h?.kill();
  }

  get running(): boolean {
    return this.handle !== null;
  }

  private onLine(line: string): void {
    if (line.includes('OVERRUN')) {
      this.handlers.uncertain('netlink overrun in ip monitor');
      return;
    }
    const m = /^\[([A-Z0-9]+)\](.*)$/.exec(line);
    if (m !== null) {
      this.flush();
      this.pending = { label: m[1], lines: [m[2]] };
    } else if (/^\s/.test(line) && line.trim() !== '') {
      if (this.pending === null) {
        this.handlers.uncertain('continuation line without its event');
        return;
      }
      this.pending.lines.push(line);
    } else if (line.trim() !== '') {
      this.flush();
      this.pending = { label: 'ROUTE', lines: [line] };
    }
    // ip flushes after each event, so the end of a chunk normally ends an event.
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => {
        this.flushQueued = false;
        this.flush();
      });
    }
  }

  private flush(): void {
    const p = this.pending;
    this.pending = null;
    if (p === null) return;
    if (p.label === 'ROUTE') this.handlers.route(parseMonitorRoute(p.lines));
    else if (p.label === 'ADDR') this.handlers.address();
  }
}
