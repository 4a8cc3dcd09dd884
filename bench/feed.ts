// The benchmark feed: one IPv4 table of distinct /24s with a given number of attribute sets, as
// wire-format UPDATEs, and its full withdrawal. Shared by the feeder (over TCP) and the
// in-process pipeline benchmark, so both measure the same bytes. Not a test.
// RFC 4271 §4.3 (UPDATE), packed with protocol/pack.ts.

import { AsPath } from '../protocol/as-path.js';
import { packUpdates, packWithdrawals } from '../protocol/pack.js';
import { v4Key } from '../protocol/prefix.js';
import type { CodecContext, PathAttributes, PrefixList } from '../protocol/types.js';

/** What the feed depends on. */
export interface FeedSpec {
  /** Our AS: the first ASN of every path. */
  asn: number;
  /** NEXT_HOP of every route. */
  nextHop: string;
  prefixes: number;
  attributeSets: number;
}

/** The sender's codec context: eBGP, 4-octet AS, no ADD-PATH, 4096-octet messages. */
export const FEED_CONTEXT: CodecContext = {
  as4: true,
  addPath: { ipv4: false, ipv6: false },
  extendedMessage: false,
  ebgp: true,
};

/** xorshift32: the same feed on every run and for both daemons. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** `sets` distinct attribute sets: AS paths of 1-8 ASNs led by our AS, a distinct MED each. */
export function attributeSets(cfg: FeedSpec, sets: number): PathAttributes[] {
  const r = rng(42);
  const out: PathAttributes[] = [];
  for (let i = 0; i < sets; i++) {
    const len = 1 + (r() % 8);
    const asns = [cfg.asn];
    for (let j = 1; j < len; j++) asns.push(100 + (r() % 60000));
    const a: PathAttributes = {
      origin: (r() % 3) as 0 | 1 | 2,
      asPath: AsPath.sequence(asns),
      nextHop: cfg.nextHop,
      med: i,
    };
    if (r() % 3 === 0) a.communities = [cfg.asn * 65536 + (r() % 100), cfg.asn * 65536 + 999];
    out.push(a);
  }
  return out;
}

const list = (v4: Float64Array): PrefixList => ({
  afi: 1,
  length: v4.length,
  v4,
  v6: [],
  pathIds: null,
});

/** Concatenates messages into ~256 KiB chunks so writing costs the feeder next to nothing. */
function chunked(messages: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  let batch: Buffer[] = [];
  let size = 0;
  for (const m of messages) {
    batch.push(m);
    size += m.length;
    if (size >= 1 << 18) {
      out.push(Buffer.concat(batch, size));
      batch = [];
      size = 0;
    }
  }
  if (batch.length) out.push(Buffer.concat(batch, size));
  return out;
}

/**
 * The table: distinct /24s from 1.0.0.0 upward (inside the benchmark's pool 0.0.0.0/1, clear
 * of the link subnets in 172.31.0.0/16). Set s owns prefixes s, s+sets, s+2*sets, ... so the
 * prefixes of one UPDATE are scattered through the address space, as in a real table.
 */
export function buildFeed(cfg: FeedSpec): {
  table: Buffer[];
  withdrawals: Buffer[];
  updates: number;
  bytes: number;
} {
  const n = cfg.prefixes;
  const sets = attributeSets(cfg, cfg.attributeSets);
  const msgs: Buffer[] = [];
  const keys = new Float64Array(n);
  let k = 0;
  for (let s = 0; s < sets.length && s < n; s++) {
    const start = k;
    for (let idx = s; idx < n; idx += sets.length) keys[k++] = v4Key(0x01000000 + idx * 256, 24);
    for (const m of packUpdates(sets[s], list(keys.subarray(start, k)), FEED_CONTEXT)) msgs.push(m);
  }
  const wd = packWithdrawals(list(keys), FEED_CONTEXT);
  const bytes = msgs.reduce((a, m) => a + m.length, 0);
  return { table: chunked(msgs), withdrawals: chunked(wd), updates: msgs.length, bytes };
}
