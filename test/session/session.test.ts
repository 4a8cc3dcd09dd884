// Sessions over real loopback TCP: two podbgp speakers, and a scripted raw speaker for the
// cases a well-behaved peer never produces (silence, garbage, capability rejection).

import net, { type Socket } from 'node:net';
import t, { type Test } from 'tap';
import pino from 'pino';
import { AsPath } from '../../protocol/as-path.js';
import { encodeMessage, decodeMessage } from '../../protocol/message.js';
import { Framer } from '../../protocol/framer.js';
import { DEFAULT_CONTEXT, type BgpMessage, type OpenMessage } from '../../protocol/types.js';
import { prefixListFromStrings, emptyPrefixList } from '../../protocol/prefix.js';
import { Listener } from '../../src/session/listener.js';
import {
  Session,
  type DownInfo,
  type SessionHandler,
  type SessionOptions,
} from '../../src/session/session.js';
import { systemClock, type Clock } from '../../src/session/timers.js';
import type { Negotiated } from '../../src/session/negotiate.js';

const log = pino({ level: 'silent' });

interface Recorder extends SessionHandler {
  established_: Negotiated[];
  updates: BgpMessage[];
  downs: DownInfo[];
}

function recorder(): Recorder {
  const r: Recorder = {
    established_: [],
    updates: [],
    downs: [],
    established: (_s, n) => void r.established_.push(n),
    update: (_s, u) => void r.updates.push(u),
    routeRefresh: () => undefined,
    down: (_s, d) => void r.downs.push(d),
  };
  return r;
}

async function until(what: string, cond: () => boolean, ms = 15000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let nextPort = 20179 + Math.floor(Math.random() * 2000);

interface Speaker {
  session: Session;
  listener: Listener;
  rec: Recorder;
  port: number;
}

async function speaker(
  t: Test,
  self: string,
  peer: string,
  peerPort: number,
  opts: Partial<SessionOptions> & { asn: number; peerAsn: number; port: number; clock?: Clock },
): Promise<Speaker> {
  const rec = recorder();
  const session = new Session(
    {
      peerAddress: peer,
      peerPort,
      peerAsn: opts.peerAsn,
      localAddress: self,
      passive: opts.passive ?? false,
      maxPrefixRestart: opts.maxPrefixRestart ?? 1,
      fsm: { connectRetryTime: 1, idleHoldTime: 0.2, ...opts.fsm },
      local: {
        asn: opts.asn,
        routerId: self,
        holdTime: opts.local?.holdTime ?? 9,
        families: ['ipv4-unicast', 'ipv6-unicast'],
        extendedMessage: true,
        extendedNextHop: false,
        gracefulRestart: { restartTime: 60, restarting: false, forwarding: true },
      },
    },
    rec,
    { clock: opts.clock ?? systemClock, dial: (o) => net.connect(o), log },
  );
  const listener = new Listener(
    { address: self, port: opts.port },
    (remote, socket) => {
      if (remote !== peer) return false;
      session.acceptIncoming(socket);
      return true;
    },
    log,
  );
  await listener.listen();
  t.teardown(async () => {
    session.destroy();
    await listener.close();
  });
  return { session, listener, rec, port: opts.port };
}

async function pair(t: Test, passiveA: boolean) {
  const pa = nextPort++;
  const pb = nextPort++;
  const a = await speaker(t, '127.0.0.1', '127.0.0.2', pb, {
    asn: 65001,
    peerAsn: 65002,
    port: pa,
    passive: passiveA,
  });
  const b = await speaker(t, '127.0.0.2', '127.0.0.1', pa, {
    asn: 65002,
    peerAsn: 65001,
    port: pb,
  });
  return { a, b };
}

for (const passiveA of [false, true]) {
  t.test(
    `two speakers reach Established (A ${passiveA ? 'passive' : 'active'}, B active)`,
    async (t) => {
      const { a, b } = await pair(t, passiveA);
      a.session.start();
      b.session.start();
      await until(
        'both Established',
        () => a.session.state === 'Established' && b.session.state === 'Established',
      );
      t.equal(a.rec.established_.length, 1, 'A established once');
      t.equal(b.rec.established_.length, 1, 'B established once');
      const n = a.session.negotiated!;
      t.equal(n.peerAsn, 65002);
      t.equal(n.holdTime, 9);
      t.same(n.families, ['ipv4-unicast', 'ipv6-unicast']);
      t.equal(n.extendedMessage, true);
      t.equal(n.gracefulRestart?.restartTime, 60);
      t.equal(n.send.ebgp, true);
      // Both dialling at once usually collides (RFC 4271 §6.8): the Cease that resolves it is
      // not the session's last NOTIFICATION, on either side.
      const sent = a.session.counters.out.notification + b.session.counters.out.notification;
      t.comment(`collision-resolution NOTIFICATIONs sent: ${sent}`);
      t.equal(a.session.lastNotification, null, 'A: no last NOTIFICATION');
      t.equal(b.session.lastNotification, null, 'B: no last NOTIFICATION');
    },
  );
}

t.test('an UPDATE and an admin shutdown with a message cross the session', async (t) => {
  const { a, b } = await pair(t, false);
  a.session.start();
  b.session.start();
  await until(
    'Established',
    () => a.session.state === 'Established' && b.session.state === 'Established',
  );
  b.session.send({
    type: 'update',
    withdrawn: emptyPrefixList(1),
    nlri: prefixListFromStrings(1, ['10.244.1.0/26']),
    attributes: { origin: 0, asPath: AsPath.sequence([65002]), nextHop: '127.0.0.2' },
  });
  await until('update at A', () => a.rec.updates.length > 0);
  const u = a.rec.updates[0];
  t.equal(u.type, 'update');
  if (u.type === 'update')
    t.same(
      Array.from(u.nlri.v4),
      prefixListFromStrings(1, ['10.244.1.0/26']).v4 as unknown as number[],
    );
  b.session.stop('maintenance window');
  await until('A down', () => a.rec.downs.length > 0);
  const down = a.rec.downs[0];
  t.equal(down.wasEstablished, true);
  t.equal(down.notification?.direction, 'received');
  // Both sides set the RFC 8538 N bit, so an administrative shutdown is a Hard Reset (6/9)
  // wrapping Administrative Shutdown (2) and its RFC 9003 message.
  t.equal(down.notification?.code, 6, 'Cease');
  t.equal(down.notification?.subcode, 9, 'Hard Reset');
  t.match(down.notification?.name, /Hard Reset \(Administrative Shutdown\)/);
  t.equal(down.notification?.message, 'maintenance window', 'RFC 9003 shutdown communication');
});

t.test('a graceful stop (daemon restart) sends a plain Administrative Shutdown', async (t) => {
  const { a, b } = await pair(t, false);
  a.session.start();
  b.session.start();
  await until(
    'Established',
    () => a.session.state === 'Established' && b.session.state === 'Established',
  );
  b.session.stop('restarting', { graceful: true });
  await until('A down', () => a.rec.downs.length > 0);
  const n = a.rec.downs[0].notification;
  t.same([n?.code, n?.subcode, n?.message], [6, 2, 'restarting']);
  // The next session starts clean: a later loss without NOTIFICATION reports none.
  b.session.start();
  await until(
    'Established again',
    () => a.session.state === 'Established' && b.session.state === 'Established',
  );
  b.session.destroy();
  await until('A down again', () => a.rec.downs.length > 1);
  t.equal(a.rec.downs[1].notification, undefined, 'no stale NOTIFICATION from the earlier session');
});

/** A raw scripted peer: accepts one connection and gives each decoded message to `onMsg`. */
async function rawPeer(
  t: Test,
  address: string,
  port: number,
  onMsg: (m: BgpMessage, sock: Socket) => void,
  onBytes?: (sock: Socket) => void,
): Promise<{ received: BgpMessage[] }> {
  const received: BgpMessage[] = [];
  const server = net.createServer((sock) => {
    const framer = new Framer();
    sock.on('error', () => undefined);
    sock.on('data', (chunk) => {
      try {
        for (const f of framer.push(chunk)) {
          const m = decodeMessage(f, 0, DEFAULT_CONTEXT).value;
          received.push(m);
          onMsg(m, sock);
        }
      } catch {
        sock.destroy();
      }
    });
    onBytes?.(sock);
  });
  await new Promise<void>((r) => server.listen(port, address, () => r()));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return { received };
}

const peerOpen = (asn: number, id: string, hold = 3): OpenMessage => ({
  type: 'open',
  version: 4,
  myAs: asn,
  holdTime: hold,
  routerId: id,
  capabilities: [
    { name: 'multiprotocol', code: 1, afi: 1, safi: 1 },
    { name: 'four-octet-as', code: 65, asn },
  ],
});

t.test('a silent peer gets Hold Timer Expired within the negotiated hold time', async (t) => {
  const port = nextPort++;
  const peer = await rawPeer(t, '127.0.0.3', port, (m, sock) => {
    // Complete the OPEN exchange, then say nothing more.
    if (m.type === 'open') {
      sock.write(encodeMessage(peerOpen(65003, '127.0.0.3'), DEFAULT_CONTEXT));
      sock.write(encodeMessage({ type: 'keepalive' }, DEFAULT_CONTEXT));
    }
  });
  const a = await speaker(t, '127.0.0.1', '127.0.0.3', port, {
    asn: 65001,
    peerAsn: 65003,
    port: nextPort++,
  });
  a.session.start();
  await until('Established', () => a.session.state === 'Established');
  const at = Date.now();
  await until(
    'hold timer expiry',
    () => peer.received.some((m) => m.type === 'notification'),
    10000,
  );
  const elapsed = (Date.now() - at) / 1000;
  const n = peer.received.find((m) => m.type === 'notification');
  t.same(n && n.type === 'notification' && [n.code, n.subcode], [4, 0], 'Hold Timer Expired');
  t.ok(elapsed <= 3.5, `sent after ${elapsed.toFixed(2)} s of silence (hold time 3 s)`);
  t.equal(a.rec.downs[0]?.wasEstablished, true, 'routes released');
});

t.test(
  'UPDATEs alone keep the session up; one chunk of them restarts the Hold Timer once',
  async (t) => {
    const port = nextPort++;
    const withdrawal = (i: number): Buffer =>
      encodeMessage(
        {
          type: 'update',
          withdrawn: prefixListFromStrings(1, [`10.${(i >> 8) & 255}.${i & 255}.0/24`]),
          nlri: emptyPrefixList(1),
          attributes: {},
        },
        DEFAULT_CONTEXT,
      );
    let sock: Socket | null = null;
    const peer = await rawPeer(t, '127.0.0.3', port, (m, s) => {
      if (m.type !== 'open') return;
      sock = s;
      // Hold time 3 s; after its KEEPALIVE this peer never sends another one.
      s.write(encodeMessage(peerOpen(65003, '127.0.0.3'), DEFAULT_CONTEXT));
      s.write(encodeMessage({ type: 'keepalive' }, DEFAULT_CONTEXT));
    });
    let reads = 0;
    const clock: Clock = {
      ...systemClock,
      monotonic: () => {
        reads++;
        return systemClock.monotonic();
      },
    };
    const a = await speaker(t, '127.0.0.1', '127.0.0.3', port, {
      asn: 65001,
      peerAsn: 65003,
      port: nextPort++,
      clock,
    });
    a.session.start();
    await until('Established', () => a.session.state === 'Established');
    // 400 UPDATEs in one write (about 10 KB, which loopback delivers in one or two chunks).
    let seen = 0;
    a.rec.update = () => void seen++;
    const before = reads;
    sock!.write(Buffer.concat(Array.from({ length: 400 }, (_, i) => withdrawal(i))));
    await until('the 400 UPDATEs', () => seen >= 400);
    t.ok(reads - before < 40, `${reads - before} clock reads for 400 UPDATEs (one per chunk)`);
    // Then one UPDATE a second for 6 s, twice the hold time: each chunk restarts the timer.
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      sock!.write(withdrawal(1000 + i));
    }
    await until('the last UPDATE', () => seen >= 406);
    t.equal(a.session.state, 'Established', 'still up after 6 s without a KEEPALIVE');
    t.notOk(
      peer.received.some((m) => m.type === 'notification'),
      'no Hold Timer Expired was sent',
    );
  },
);

t.test('a capability the peer rejects is left out of the next OPEN (RFC 5492 §5)', async (t) => {
  const port = nextPort++;
  let opens = 0;
  const peer = await rawPeer(t, '127.0.0.4', port, (m, sock) => {
    if (m.type !== 'open') return;
    opens += 1;
    if (opens === 1) {
      // Reject extended message (code 6, length 0).
      sock.end(
        encodeMessage(
          { type: 'notification', code: 2, subcode: 7, data: Buffer.from([6, 0]) },
          DEFAULT_CONTEXT,
        ),
      );
      return;
    }
    sock.write(encodeMessage(peerOpen(65004, '127.0.0.4', 30), DEFAULT_CONTEXT));
    sock.write(encodeMessage({ type: 'keepalive' }, DEFAULT_CONTEXT));
  });
  const a = await speaker(t, '127.0.0.1', '127.0.0.4', port, {
    asn: 65001,
    peerAsn: 65004,
    port: nextPort++,
  });
  a.session.start();
  await until('Established', () => a.session.state === 'Established', 20000);
  const openMsgs = peer.received.filter((m): m is OpenMessage => m.type === 'open');
  t.ok(
    openMsgs[0].capabilities.some((c) => c.code === 6),
    'first OPEN offered extended message',
  );
  t.notOk(
    openMsgs[1].capabilities.some((c) => c.code === 6),
    'second OPEN did not',
  );
  t.ok(a.session.disabledCapabilities.has(6));
});

t.test('a garbage stream is cut off with a Message Header Error', async (t) => {
  const port = nextPort++;
  let sent = 0;
  const peer = await rawPeer(
    t,
    '127.0.0.5',
    port,
    () => undefined,
    (sock) => {
      // Up to 100 MB of bytes that are not BGP; the speaker must notify and stop reading.
      const junk = Buffer.alloc(64 * 1024, 0x41);
      const pump = () => {
        while (sent < 100 << 20 && !sock.destroyed) {
          sent += junk.length;
          if (!sock.write(junk)) return void sock.once('drain', pump);
        }
      };
      pump();
    },
  );
  const a = await speaker(t, '127.0.0.1', '127.0.0.5', port, {
    asn: 65001,
    peerAsn: 65005,
    port: nextPort++,
  });
  a.session.start();
  await until('NOTIFICATION', () => peer.received.some((m) => m.type === 'notification'));
  const n = peer.received.find((m) => m.type === 'notification');
  t.same(
    n && n.type === 'notification' && [n.code, n.subcode],
    [1, 1],
    'Connection Not Synchronized',
  );
  t.equal(a.session.counters.decodeErrors['session-reset'], 1);
  t.not(a.session.state, 'Established');
  await new Promise((r) => setTimeout(r, 500));
  t.ok(
    sent < 100 << 20,
    `the connection was cut before the 100 MB arrived (${sent >> 20} MB sent)`,
  );
});

t.test('a flood of UPDATEs is processed in order, one chunk at a time', async (t) => {
  const port = nextPort++;
  const total = 600_000;
  let written = 0;
  await rawPeer(t, '127.0.0.8', port, (m, sock) => {
    if (m.type !== 'open') return;
    sock.write(encodeMessage(peerOpen(65008, '127.0.0.8', 90), DEFAULT_CONTEXT));
    sock.write(encodeMessage({ type: 'keepalive' }, DEFAULT_CONTEXT));
    // As fast as the socket takes them: one announcement per UPDATE (about 50 bytes each).
    const batch = Buffer.concat(
      Array.from({ length: 1000 }, (_, i) =>
        encodeMessage(
          {
            type: 'update',
            withdrawn: emptyPrefixList(1),
            nlri: prefixListFromStrings(1, [`10.${(i >> 8) & 255}.${i & 255}.0/24`]),
            attributes: { origin: 0, asPath: AsPath.sequence([65008]), nextHop: '127.0.0.8' },
          },
          DEFAULT_CONTEXT,
        ),
      ),
    );
    const pump = () => {
      while (written < total && !sock.destroyed) {
        written += 1000;
        if (!sock.write(batch)) return void sock.once('drain', pump);
      }
    };
    pump();
  });
  const a = await speaker(t, '127.0.0.1', '127.0.0.8', port, {
    asn: 65001,
    peerAsn: 65008,
    port: nextPort++,
  });
  // Count, do not keep: the handler is what a RIB would be. Each socket chunk is framed and
  // handed over before the next is read, so what the session holds is bounded by one chunk
  // plus one partial message (the framer tests check the latter); RSS is too noisy to assert.
  let seen = 0;
  a.rec.update = () => void seen++;
  a.session.start();
  await until('every UPDATE processed', () => seen >= total, 60000);
  t.equal(seen, total, 'all UPDATEs were processed');
  t.equal(a.session.state, 'Established');
});

t.test('the listener refuses an unknown address with Cease / Connection Rejected', async (t) => {
  const port = nextPort++;
  await speaker(t, '127.0.0.1', '127.0.0.9', nextPort++, { asn: 65001, peerAsn: 65009, port });
  const got = await new Promise<Buffer>((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.7' });
    const chunks: Buffer[] = [];
    sock.on('data', (c) => chunks.push(c));
    sock.on('close', () => resolve(Buffer.concat(chunks)));
    sock.on('error', reject);
  });
  const msg = decodeMessage(got, 0, DEFAULT_CONTEXT).value;
  t.same(msg.type === 'notification' && [msg.code, msg.subcode], [6, 5]);
});

t.test('a port already in use is a clear error', async (t) => {
  const port = nextPort++;
  await speaker(t, '127.0.0.1', '127.0.0.2', nextPort++, { asn: 65001, peerAsn: 65002, port });
  const second = new Listener({ address: '127.0.0.1', port }, () => false, log);
  await t.rejects(second.listen(), /already in use/);
});

for (const restart of [1, 0]) {
  t.test(
    `max-prefix: Cease / Maximum Number of Prefixes Reached, restart ${restart ? 'after 1 s' : 'never (0)'}`,
    async (t) => {
      const port = nextPort++;
      const peer = await rawPeer(t, '127.0.0.6', port, (m, sock) => {
        if (m.type !== 'open') return;
        sock.write(encodeMessage(peerOpen(65006, '127.0.0.6', 30), DEFAULT_CONTEXT));
        sock.write(encodeMessage({ type: 'keepalive' }, DEFAULT_CONTEXT));
      });
      const a = await speaker(t, '127.0.0.1', '127.0.0.6', port, {
        asn: 65001,
        peerAsn: 65006,
        port: nextPort++,
        maxPrefixRestart: restart,
      });
      a.session.start();
      await until('Established', () => a.session.state === 'Established');
      a.session.maxPrefixExceeded(1, 1, 10);
      await until('NOTIFICATION', () => peer.received.some((m) => m.type === 'notification'));
      const n = peer.received.find((m) => m.type === 'notification');
      if (n?.type !== 'notification') return t.fail('no NOTIFICATION');
      t.same([n.code, n.subcode], [6, 1]);
      // RFC 4486 §4: AFI (2), SAFI (1), the upper bound (4).
      t.same([...n.data], [0, 1, 1, 0, 0, 0, 10]);
      if (restart) {
        await until(
          'a second OPEN after the restart interval',
          () => peer.received.filter((m) => m.type === 'open').length >= 2,
        );
        t.pass('reconnected');
      } else {
        await new Promise((r) => setTimeout(r, 2500));
        t.equal(peer.received.filter((m) => m.type === 'open').length, 1, 'no reconnection');
        t.equal(a.session.isEnabled, false, 'the peer stays disabled');
      }
    },
  );
}
