// In-process receive pipeline benchmark: the full-table feed's wire bytes (bench/feed.ts, the
// same bytes the feeder sends) through the framer, the UPDATE decoder and the RIB with the
// daemon's peer settings (pool filter, pre-policy copy kept), with a best-path listener that
// only counts. The main thread's share of a full-table load without TCP, the session state
// machine or the kernel sync, for quick profiling (--cpu-prof). Then the table's withdrawal by
// UPDATE, and the table again followed by a session loss without graceful restart. Not a test.
// RFC 4271 §4.3, §9, §8.2.2 (routes of a closed session are removed).
//
// Run: node --max-semi-space-size=4 --import tsx bench/pipeline.ts [--sizes 100000,1000000]
//      [--sets 50000] [--repeat 3]

import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { Framer } from '../protocol/framer.js';
import { decodeMessage } from '../protocol/message.js';
import type { CodecContext } from '../protocol/types.js';
import { compilePolicies } from '../src/policy/index.js';
import { Rib } from '../src/rib/rib.js';
import type { BestPathChanges } from '../src/rib/changes.js';
import { buildFeed } from './feed.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string =>
  args.includes(name) ? args[args.indexOf(name) + 1] : dflt;
const sizes = opt('--sizes', '100000,1000000').split(',').map(Number);
const attributeSets = Number(opt('--sets', '50000'));
const repeat = Number(opt('--repeat', '3'));

const PEER = { address: '172.31.1.1', asn: 65001 };
const LOCAL_ASN = 65000;
/** The receiver's codec context for this eBGP peer (4-octet AS, no ADD-PATH). */
const ctx: CodecContext = {
  as4: true,
  addPath: { ipv4: false, ipv6: false },
  extendedMessage: false,
  ebgp: true,
};

/** The daemon's pool filter for the full-table benchmark's pool (bench/full-table.ts). */
const POOL_FILTER = 'pool-filter';
const policies = compilePolicies(
  {
    poolFilters: {
      [POOL_FILTER]: { pools: [{ cidr: '0.0.0.0/1', blockSize: 24 }], nodeSubnets: [] },
    },
  },
  { localAsn: LOCAL_ASN },
);

function once(chunks: Buffer[], withdrawals: Buffer[], n: number): number[] {
  let changes = 0;
  const rib = new Rib({
    localAsn: LOCAL_ASN,
    routerId: '172.31.1.2',
    logger: pino({ level: 'silent' }),
    timers: {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    },
    policies,
    onBestPathChanges: (c: BestPathChanges) => {
      changes += c.length;
    },
  });
  const peer = rib.registerPeer({
    id: PEER.address,
    address: PEER.address,
    asn: PEER.asn,
    localAsn: LOCAL_ASN,
    nextHopSelf: true,
    keepPrePolicy: true,
    importPolicies: [POOL_FILTER],
  });
  rib.established(
    peer,
    {
      routerId: '172.31.1.1',
      localAddress: '172.31.1.2',
      families: ['ipv4-unicast'],
      addPath: {},
      fourOctetAs: true,
      extendedMessage: false,
    },
    { send: () => true },
  );
  const receive = (bufs: Buffer[]): void => {
    const framer = new Framer();
    for (const chunk of bufs) {
      framer.each(chunk, (buf, offset) => {
        const msg = decodeMessage(buf, offset, ctx).value;
        if (msg.type === 'update') rib.applyUpdate(peer, msg);
      });
    }
  };
  let t = performance.now();
  receive(chunks);
  const load = performance.now() - t;
  if (rib.stats().prefixes[0] !== n) throw new Error(`Loc-RIB holds ${rib.stats().prefixes[0]}`);
  if (changes !== n) throw new Error(`${changes} best-path changes, expected ${n}`);
  t = performance.now();
  receive(withdrawals);
  const withdraw = performance.now() - t;
  if (rib.stats().prefixes[0] !== 0) throw new Error('the withdrawal left routes');
  // The table again, then the session goes down (no graceful restart): every route goes.
  receive(chunks);
  t = performance.now();
  rib.peerDown(peer, { graceful: false });
  const down = performance.now() - t;
  if (rib.stats().prefixes[0] !== 0) throw new Error('the session loss left routes');
  if (changes !== 4 * n) throw new Error(`${changes} best-path changes, expected ${4 * n}`);
  return [load, withdraw, down];
}

console.log(`bench/pipeline.ts  ${new Date().toISOString()}  node ${process.version}`);
console.log(`nproc ${os.cpus().length}, ${os.cpus()[0]?.model ?? ''}`);
for (const n of sizes) {
  const feed = buildFeed({ asn: PEER.asn, nextHop: PEER.address, prefixes: n, attributeSets });
  for (let r = 0; r < repeat; r++) {
    const [load, withdraw, down] = once(feed.table, feed.withdrawals, n);
    console.log(
      `${String(n).padStart(8)} prefixes, ${feed.updates} UPDATEs: load ${load.toFixed(0)} ms ` +
        `(${((load * 1e6) / n).toFixed(0)} ns/prefix), withdrawal ${withdraw.toFixed(0)} ms, ` +
        `session loss ${down.toFixed(0)} ms`,
    );
  }
}
