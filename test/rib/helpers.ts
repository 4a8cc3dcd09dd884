// Test helpers for the RIB: UPDATE builders, a fake timer owner, and a recording sink.
// Test-only; not imported by library code.

import { pino } from 'pino';
import {
  emptyPrefixList,
  prefixListFromStrings,
  prefixListToStrings,
} from '../../protocol/prefix.js';
import type { PathAttributes, UpdateMessage } from '../../protocol/types.js';
import { Rib, type RibOptions } from '../../src/rib/rib.js';
import type {
  NegotiatedFacts,
  OutboundUpdate,
  RibTimers,
  UpdateSink,
} from '../../src/rib/types.js';

export const silent = pino({ level: 'silent' });

export class FakeTimers implements RibTimers {
  now = 0;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.now + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  get count(): number {
    return this.pending.size;
  }
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | null = null;
      for (const e of this.pending)
        if (e[1].at <= until && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.pending.delete(next[0]);
      this.now = next[1].at;
      next[1].fn();
    }
    this.now = until;
  }
}

export function makeRib(extra: Partial<RibOptions> = {}): { rib: Rib; timers: FakeTimers } {
  const timers = new FakeTimers();
  const rib = new Rib({ localAsn: 65000, routerId: '10.0.0.1', logger: silent, timers, ...extra });
  return { rib, timers };
}

/** An IPv4 (or, with ':' in the prefixes, IPv6 MP_REACH) announcement. */
export function announce(
  prefixes: string[],
  attrs: PathAttributes,
  pathIds: number[] | null = null,
): UpdateMessage {
  if (prefixes.length && prefixes[0].includes(':')) {
    const { nextHop, ...rest } = attrs;
    return {
      type: 'update',
      withdrawn: emptyPrefixList(1),
      nlri: emptyPrefixList(1),
      attributes: {
        ...rest,
        mpReach: {
          afi: 2,
          safi: 1,
          nextHops: [nextHop ?? '::'],
          nlri: prefixListFromStrings(2, prefixes, pathIds),
        },
      },
    };
  }
  return {
    type: 'update',
    withdrawn: emptyPrefixList(1),
    nlri: prefixListFromStrings(1, prefixes, pathIds),
    attributes: attrs,
  };
}

export function withdraw(prefixes: string[], pathIds: number[] | null = null): UpdateMessage {
  if (prefixes.length && prefixes[0].includes(':')) {
    return {
      type: 'update',
      withdrawn: emptyPrefixList(1),
      nlri: emptyPrefixList(1),
      attributes: {
        mpUnreach: { afi: 2, safi: 1, withdrawn: prefixListFromStrings(2, prefixes, pathIds) },
      },
    };
  }
  return {
    type: 'update',
    withdrawn: prefixListFromStrings(1, prefixes, pathIds),
    nlri: emptyPrefixList(1),
    attributes: {},
  };
}

export function facts(
  routerId: string,
  localAddress: string,
  more: Partial<NegotiatedFacts> = {},
): NegotiatedFacts {
  return {
    routerId,
    localAddress,
    families: ['ipv4-unicast', 'ipv6-unicast'],
    addPath: {},
    fourOctetAs: true,
    extendedMessage: false,
    ...more,
  };
}

/** A sink that records everything and can be told to report "full". */
export class RecordingSink implements UpdateSink {
  readonly updates: OutboundUpdate[] = [];
  writable = true;
  send(update: OutboundUpdate): boolean {
    this.updates.push(update);
    return this.writable;
  }
  /** What the peer would hold after applying every update so far: prefix -> attributes. */
  held(): Map<string, PathAttributes> {
    const m = new Map<string, PathAttributes>();
    for (const u of this.updates) {
      if (u.kind === 'end-of-rib') continue;
      for (const p of prefixListToStrings(u.prefixes)) {
        if (u.kind === 'withdraw') m.delete(p);
        else m.set(p, u.attributes);
      }
    }
    return m;
  }
  announced(): string[] {
    return this.updates.flatMap((u) =>
      u.kind === 'announce' ? prefixListToStrings(u.prefixes) : [],
    );
  }
  withdrawn(): string[] {
    return this.updates.flatMap((u) =>
      u.kind === 'withdraw' ? prefixListToStrings(u.prefixes) : [],
    );
  }
  clear(): void {
    this.updates.length = 0;
  }
}
