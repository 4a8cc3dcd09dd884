// In-process RIB benchmark: one eBGP peer feeds N IPv4 prefixes (100k and 1M) with 50,000
// distinct attribute sets and AS paths of length 1-8 into Loc-RIB, then withdraws them all
// (by UPDATE, and again by session loss). Prints time and heap bytes per route. Not a test.
// Run: node --expose-gc --import tsx bench/rib.ts [--sizes 100000,1000000] [--listener]
//      [--out-peers N]  (N iBGP peers also receive the table: Adj-RIB-Out generation included)

import { execSync } from 'node:child_process';
import os from 'node:os';
import { pino } from 'pino';
import { v4Key } from '../protocol/prefix.js';
import type { PathAttributes, PrefixList, UpdateMessage } from '../protocol/types.js';
import { Rib } from '../src/rib/rib.js';
import { attributeSets } from './feed.js';
import type { BestPathChanges } from '../src/rib/changes.js';

const ATTR_SETS = 50_000;
const PEER_AS = 65001;
const args = process.argv.slice(2);
const sizesArg = args.includes('--sizes') ? args[args.indexOf('--sizes') + 1] : '100000,1000000';
const sizes = sizesArg.split(',').map(Number);
const withListener = args.includes('--listener');
const outPeers = args.includes('--out-peers') ? Number(args[args.indexOf('--out-peers') + 1]) : 0;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('run with node --expose-gc so heap figures mean something');
  process.exit(2);
}
function settle(): number {
  for (let i = 0; i < 3; i++) gc!();
  // Typed-array columns live outside the V8 heap: count them too.
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** The feeder's attribute sets (bench/feed.ts): the same 50,000 sets as the full-table run. */
const feederSets = (): PathAttributes[] =>
  attributeSets(
    { asn: PEER_AS, nextHop: '192.0.2.1', prefixes: 0, attributeSets: ATTR_SETS },
    ATTR_SETS,
  );

const EMPTY: PrefixList = { afi: 1, length: 0, v4: new Float64Array(0), v6: [], pathIds: null };

/** The feed as a sender would pack it: each UPDATE carries the prefixes of one attribute set. */
function feed(
  n: number,
  sets: PathAttributes[],
): { announces: UpdateMessage[]; withdraws: UpdateMessage[] } {
  const keys = new Float64Array(n);
  // Set s owns prefixes s, s+ATTR_SETS, ...; keys are grouped per set so an UPDATE is a view.
  const perSet = Math.ceil(n / ATTR_SETS);
  let k = 0;
  const ranges: [number, number, number][] = [];
  for (let s = 0; s < ATTR_SETS && k < n; s++) {
    const start = k;
    for (let j = 0; j < perSet && k < n; j++) {
      const idx = s + j * ATTR_SETS;
      if (idx >= n) break;
      // Distinct /24s from 1.0.0.0 upward.
      keys[k++] = v4Key(0x01000000 + idx * 256, 24);
    }
    ranges.push([s, start, k]);
  }
  const maxPerUpdate = 500; // ~ what fits in 4096 octets of 4-octet NLRI
  const announces: UpdateMessage[] = [];
  for (const [s, start, end] of ranges) {
    for (let from = start; from < end; from += maxPerUpdate) {
      const to = Math.min(end, from + maxPerUpdate);
      const v4 = keys.subarray(from, to);
      announces.push({
        type: 'update',
        withdrawn: EMPTY,
        // A decoder yields a fresh object per UPDATE; interning must find the shared set.
        attributes: { ...sets[s] },
        nlri: { afi: 1, length: v4.length, v4, v6: [], pathIds: null },
      });
    }
  }
  const withdraws: UpdateMessage[] = [];
  for (let from = 0; from < n; from += 1000) {
    const v4 = keys.subarray(from, Math.min(n, from + 1000));
    withdraws.push({
      type: 'update',
      withdrawn: { afi: 1, length: v4.length, v4, v6: [], pathIds: null },
      attributes: {},
      nlri: EMPTY,
    });
  }
  return { announces, withdraws };
}

function makeRib(): { rib: Rib; changes: { n: number } } {
  const changes = { n: 0 };
  const rib = new Rib({
    localAsn: 65000,
    routerId: '10.0.0.1',
    logger: pino({ level: 'silent' }),
    timers: {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    },
    onBestPathChanges: withListener
      ? (c: BestPathChanges) => {
          changes.n += c.length;
        }
      : undefined,
  });
  return { rib, changes };
}

const facts = {
  routerId: '192.0.2.1',
  localAddress: '192.0.2.2',
  families: ['ipv4-unicast' as const],
  addPath: {},
  fourOctetAs: true,
  extendedMessage: false,
};
const sink = { send: () => true };

function run(n: number): void {
  const sets = feederSets();
  const { announces, withdraws } = feed(n, sets);
  const { rib, changes } = makeRib();
  const peer = rib.registerPeer({
    id: 'feeder',
    address: '192.0.2.1',
    asn: PEER_AS,
    localAsn: 65000,
  });
  rib.established(peer, facts, sink);
  const sent = { n: 0 };
  const counting = {
    send: (u: { kind: string; prefixes?: PrefixList }) => {
      sent.n += u.prefixes?.length ?? 0;
      return true;
    },
  };
  for (let i = 0; i < outPeers; i++) {
    const address = `10.0.${i >> 8}.${i & 255}`;
    const p = rib.registerPeer({ id: `ibgp${i}`, address, asn: 65000, localAsn: 65000 });
    rib.established(p, { ...facts, routerId: address, localAddress: '10.255.0.1' }, counting);
  }
  const heap0 = settle();
  const rss0 = process.memoryUsage().rss;
  const cpu0 = process.cpuUsage();
  let t = performance.now();
  for (const u of announces) rib.applyUpdate(peer, u);
  const insertMs = performance.now() - t;
  const cpu1 = process.cpuUsage(cpu0);
  const rssPeak = process.memoryUsage().rss;
  const heap1 = settle();
  const st = rib.stats();
  if (st.prefixes[0] !== n) throw new Error(`Loc-RIB holds ${st.prefixes[0]}, expected ${n}`);
  t = performance.now();
  let c = process.cpuUsage();
  for (const u of withdraws) rib.applyUpdate(peer, u);
  const withdrawMs = performance.now() - t;
  const withdrawCpu = process.cpuUsage(c);
  if (rib.stats().prefixes[0] !== 0) throw new Error('withdrawal left routes');
  const heap2 = settle();
  for (const u of announces) rib.applyUpdate(peer, u);
  t = performance.now();
  c = process.cpuUsage();
  rib.peerDown(peer, { graceful: false });
  const downMs = performance.now() - t;
  const downCpu = process.cpuUsage(c);
  if (rib.stats().prefixes[0] !== 0) throw new Error('session loss left routes');
  if (outPeers)
    console.log('  (with receivers, the counts below are cumulative over the four phases)');
  const fmt = (x: number): string => x.toFixed(0).padStart(8);
  console.log(
    `${String(n).padStart(8)} prefixes, ${announces.length} UPDATEs, ${st.attributeSets} interned sets` +
      (withListener ? `, ${changes.n} best-path changes` : '') +
      (outPeers ? `, ${outPeers} iBGP peers sent ${sent.n} prefixes` : ''),
  );
  console.log(
    `  insert into Loc-RIB   ${fmt(insertMs)} ms  (${((insertMs * 1e6) / n).toFixed(0)} ns/route, CPU ${((cpu1.user + cpu1.system) / 1000).toFixed(0)} ms)`,
  );
  console.log(
    `  heap+buffers per route  ${fmt((heap1 - heap0) / n)} bytes  (heap +${((heap1 - heap0) / 2 ** 20).toFixed(1)} MiB, RSS +${((rssPeak - rss0) / 2 ** 20).toFixed(1)} MiB during insert)`,
  );
  const cpuMs = (u: NodeJS.CpuUsage): string => ((u.user + u.system) / 1000).toFixed(0);
  console.log(
    `  withdraw by UPDATE    ${fmt(withdrawMs)} ms  (CPU ${cpuMs(withdrawCpu)} ms; heap left ${((heap2 - heap0) / 2 ** 20).toFixed(1)} MiB)`,
  );
  console.log(`  withdraw by peerDown  ${fmt(downMs)} ms  (CPU ${cpuMs(downCpu)} ms)`);
}

console.log(
  `bench/rib.ts  ${new Date().toISOString()}  node ${process.version}  nproc ${os.cpus().length}`,
);
try {
  console.log(execSync("lscpu | grep 'Model name'", { encoding: 'utf8' }).trim());
} catch {
  console.log(os.cpus()[0]?.model ?? 'unknown cpu');
}
console.log(
  `listener: ${withListener ? 'on (kernel-style best-path changes built)' : 'off'}; iBGP receivers: ${outPeers}`,
);
for (const n of sizes) run(n);
