// Benchmark feeder (not the daemon): a scripted eBGP speaker that sends one full IPv4 table,
// End-of-RIB and later a full withdrawal, and times them with ROUTE-REFRESH echoes. Holds no
// RIB and no FSM beyond OPEN/KEEPALIVE. RFC 4271 §4 (messages), RFC 4724 §2 (End-of-RIB),
// RFC 2918 (ROUTE-REFRESH: the peer re-sends its Adj-RIB-Out, which we use as an echo).
//
// Usage: ip netns exec NS node --import tsx bench/feeder.ts '<FeederConfig json>'
// stdin commands, one a line: feed | withdraw | close
// stdout events, JSON lines with `t` (ms since the epoch, sub-ms):
//   built, established, fed {t0, written}, withdrawing {t0, written}, closed, error,
//   rx {length} for every UPDATE from the peer that carries routes
//
// Timing: the peer handles messages in order, so its reply to a ROUTE-REFRESH sent right after
// End-of-RIB cannot leave before End-of-RIB and every UPDATE before it were processed. The
// first `rx` after `written` (the last byte handed to TCP) is that reply, or later: an upper
// bound on "End-of-RIB processed". (BIRD may send its first UPDATE late, when the feed starts;
// that one comes before `written` and is not taken.) Route counts are polled by the benchmark.

import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { HEADER_LENGTH } from '../protocol/constants.js';
import { Framer } from '../protocol/framer.js';
import { encodeMessage } from '../protocol/message.js';
import { endOfRib } from '../protocol/pack.js';
import { buildFeed, FEED_CONTEXT } from './feed.js';

export interface FeederConfig {
  /** The daemon under test. */
  peer: string;
  port?: number;
  asn: number;
  peerAsn: number;
  routerId: string;
  /** Send a ROUTE-REFRESH after End-of-RIB as a timing echo (default true). */
  echo?: boolean;
  /** NEXT_HOP of every route: our address on the link to the peer. */
  nextHop: string;
  prefixes: number;
  attributeSets: number;
  holdTime: number;
}

const MSG = { OPEN: 1, UPDATE: 2, NOTIFICATION: 3, KEEPALIVE: 4, ROUTE_REFRESH: 5 } as const;

const cfg = JSON.parse(process.argv[2] ?? '{}') as FeederConfig;
const ctx = FEED_CONTEXT;
const now = (): number => performance.timeOrigin + performance.now();
const emit = (event: string, data: Record<string, unknown> = {}): void => {
  process.stdout.write(JSON.stringify({ event, t: now(), ...data }) + '\n');
};

const feed = buildFeed(cfg);
emit('built', { updates: feed.updates, bytes: feed.bytes, prefixes: cfg.prefixes });

const routeRefresh = encodeMessage({ type: 'route-refresh', afi: 1, safi: 1, subtype: 0 }, ctx);
const keepalive = encodeMessage({ type: 'keepalive' }, ctx);
const eor = endOfRib('ipv4-unicast', ctx);

const socket = net.connect({ host: cfg.peer, port: cfg.port ?? 179 });
socket.setNoDelay(true);
const framer = new Framer();
let established = false;
let keepaliveTimer: NodeJS.Timeout | null = null;
/** Writes and resolves with the time the last byte was handed to the kernel. */
function write(bufs: Buffer[]): Promise<number> {
  return new Promise((resolve, reject) => {
    if (bufs.length === 0) return resolve(now());
    for (let i = 0; i < bufs.length - 1; i++) socket.write(bufs[i]);
    socket.write(bufs[bufs.length - 1], (err) => (err ? reject(err) : resolve(now())));
  });
}

socket.on('connect', () => {
  socket.write(
    encodeMessage(
      {
        type: 'open',
        version: 4,
        myAs: cfg.asn > 65535 ? 23456 : cfg.asn,
        holdTime: cfg.holdTime,
        routerId: cfg.routerId,
        capabilities: [
          { name: 'multiprotocol', code: 1, afi: 1, safi: 1 },
          { name: 'route-refresh', code: 2 },
          { name: 'four-octet-as', code: 65, asn: cfg.asn },
        ],
      },
      ctx,
    ),
  );
});

socket.on('data', (chunk: Buffer) => {
  const t = now();
  for (const m of framer.push(chunk)) {
    const type = m[18];
    if (type === MSG.OPEN) {
      socket.write(keepalive);
    } else if (type === MSG.KEEPALIVE && !established) {
      established = true;
      keepaliveTimer = setInterval(
        () => socket.write(keepalive),
        Math.max(1, Math.floor(cfg.holdTime / 3)) * 1000,
      );
      emit('established');
    } else if (type === MSG.UPDATE) {
      // An End-of-RIB is an UPDATE of 23 octets (no withdrawn routes, no attributes).
      if (m.length > HEADER_LENGTH + 4) emit('rx', { t, length: m.length });
    } else if (type === MSG.NOTIFICATION) {
      emit('error', { message: `NOTIFICATION ${m[19]}/${m[20]} from the peer` });
      process.exit(1);
    }
  }
});
socket.on('error', (err) => {
  emit('error', { message: err.message });
  process.exit(1);
});
socket.on('close', () => {
  emit('closed');
  process.exit(0);
});

async function command(cmd: string): Promise<void> {
  if (cmd === 'feed') {
    // One ROUTE-REFRESH only, after End-of-RIB: BIRD answers several pending requests with one
    // re-send, so a request per phase would not give one echo each.
    const t0 = now();
    const written = await write([
      ...feed.table,
      eor,
      ...(cfg.echo === false ? [] : [routeRefresh]),
    ]);
    emit('fed', { t0, written });
  } else if (cmd === 'withdraw') {
    const t0 = now();
    const written = await write(feed.withdrawals);
    emit('withdrawing', { t0, written });
  } else if (cmd === 'close') {
    if (keepaliveTimer) clearInterval(keepaliveTimer);
    // RFC 4486: Cease / Administrative Shutdown.
    socket.end(encodeMessage({ type: 'notification', code: 6, subcode: 2, data: Buffer.alloc(0) }));
  }
}

const rl = createInterface({ input: process.stdin });
let queue = Promise.resolve();
rl.on('line', (line) => {
  const cmd = line.trim();
  queue = queue.then(() =>
    command(cmd).catch((err: Error) => emit('error', { message: err.message })),
  );
});
