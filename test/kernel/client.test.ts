// KernelClient and KernelHost over a real MessageChannel (structured clone and transfers as
// between threads), with KernelSync on the in-memory `ip`: call order survives batching,
// statuses come back in one request, canReach matches KernelSync, logs and deaths reach the
// main side. The worker thread itself is tested in test/netns/kernel-worker.test.ts.
import t, { type Test } from 'tap';
import pino from 'pino';
import { MessageChannel } from 'node:worker_threads';
import { Writable } from 'node:stream';
import {
  KernelClient,
  KernelSync,
  v4PrefixKey,
  workerEntry,
  type KernelChannel,
  type KernelClientOptions,
} from '../../src/kernel/index.js';
import { KernelHost, PortLogger } from '../../src/kernel/host.js';
import {
  LEVEL_VALUES,
  type FromWorker,
  type KernelWorkerInit,
  type ToWorker,
} from '../../src/kernel/worker-protocol.js';
import { FakeIp } from './fake-ip.js';

interface Pair {
  client: KernelClient;
  ip: FakeIp;
  sync: () => KernelSync;
  /** Copies of the messages the client posted, in order. */
  sent: ToWorker[];
  /** The messages themselves (after their transfers). */
  raw: ToWorker[];
  /** Ends the worker side as a crash would. */
  crash: (err: Error) => void;
}

function fakeIp(ipipSupported = true): FakeIp {
  const ip = new FakeIp();
  ip.ipipSupported = ipipSupported;
  ip.addLink('lo', ['127.0.0.1/8'], 65536);
  ip.addLink('ens32', ['192.168.26.71/24']);
  ip.addLink('ens33', ['192.168.30.71/24', 'fd00:30::71/64']);
  return ip;
}

/** A client whose "worker" is a KernelHost in this thread, across a MessageChannel. */
function pair(t: Test, opts: Partial<KernelClientOptions> = {}, ip = fakeIp()): Pair {
  let sync: KernelSync | null = null;
  const sent: ToWorker[] = [];
  const raw: ToWorker[] = [];
  let failure: ((err: Error) => void) | null = null;
  const connect = (init: KernelWorkerInit): KernelChannel => {
    const { port1, port2 } = new MessageChannel();
    const post = (m: FromWorker): void => port2.postMessage(m);
    // Wired as worker.ts wires it.
    const logger = new PortLogger(post, LEVEL_VALUES[init.logLevel]);
    sync = new KernelSync({ ...init.options, runner: ip, coalesceMs: 1, logger });
    new KernelHost(sync, port2, { setLogLevel: (level) => logger.setLevel(level) });
    return {
      post: (msg, transfer) => {
        sent.push(structuredClone(msg));
        raw.push(msg);
        port1.postMessage(msg, transfer);
      },
      onMessage: (fn) => port1.on('message', fn),
      onFailure: (fn) => {
        failure = fn;
      },
      close: async () => {
        await sync?.stop();
        port1.close();
        port2.close();
      },
    };
  };
  const client = new KernelClient({
    logger: pino({ level: 'silent' }),
    pools: [{ cidr: '10.244.0.0/16', ipipMode: 'CrossSubnet' }],
    monitor: false,
    connect,
    ...opts,
  });
  t.teardown(() => client.stop());
  return {
    client,
    ip,
    sync: () => sync as unknown as KernelSync,
    sent,
    raw,
    crash: (err) => failure?.(err),
  };
}

const key = (a: number, b: number, c: number, len: number): number =>
  v4PrefixKey(((10 << 24) | (a << 16) | (b << 8) | c) >>> 0, len);

t.test('updates, own blocks and convergence reach the sync in call order', async (t) => {
  const { client, ip, sent } = pair(t);
  t.same(await client.start(), { adopted: 0 });
  const nh = ['192.168.30.72'];
  const ecmp = ['192.168.26.72', '192.168.30.72'];
  client.update(key(244, 5, 192, 26), nh);
  client.update('10.244.6.0/26', ecmp);
  client.update(key(244, 7, 0, 26), nh);
  // The own block and convergence are posted after the updates buffered before them.
  client.setOwnBlocks(['10.244.118.192/26']);
  client.update(key(244, 7, 0, 26), null);
  client.markConverged();
  t.same(
    sent.slice(1).map((m) => m.t),
    ['updates', 'own', 'updates', 'converged'],
    'buffered updates go out before each other message',
  );
  await client.idle();
  t.same([...ip.batches.flat()].sort(), [
    'route add 10.244.5.192/26 via 192.168.30.72 dev ens33 proto bgp',
    'route add 10.244.6.0/26 proto bgp nexthop via 192.168.26.72 dev ens32 weight 1 nexthop via 192.168.30.72 dev ens33 weight 1',
    'route add blackhole 10.244.118.192/26 proto bgp',
  ]);
  const st = await client.status();
  t.equal(st.counts.installed, 3);
  t.same(st.counts.byShape, { direct: 1, ipip: 0, blackhole: 1, ecmp: 1 });
  t.same((await client.status({ routes: false })).routes, [], 'metrics form: no route list');
});

t.test('updates of one macrotask are posted together, after it ends', async (t) => {
  const { client, sent } = pair(t);
  await client.start();
  const before = sent.length;
  const nh = ['192.168.30.72'];
  for (let i = 0; i < 100; i++) client.update(key(244, i, 0, 24), nh);
  t.equal(sent.length, before, 'nothing posted while the caller runs');
  await new Promise((r) => setImmediate(r));
  const posted = sent.slice(before);
  t.equal(posted.length, 1, 'one message');
  const m = posted[0];
  t.equal(m.t === 'updates' ? m.keys.length : -1, 100);
  t.same(m.t === 'updates' ? m.defs : null, [[1, nh]], 'the shared list sent once');
  await client.idle();
  t.equal((await client.status({ routes: false })).counts.installed, 100);
});

t.test('a full batch is posted at once, its buffers transferred', async (t) => {
  const { client, sent, raw } = pair(t, { batchCapacity: 8 });
  await client.start();
  const before = sent.length;
  for (let i = 0; i < 20; i++) client.update(key(244, i, 0, 24), ['192.168.30.72']);
  t.equal(sent.length - before, 2, 'two full batches of 8 already posted');
  const copy = sent[before];
  t.equal(copy.t === 'updates' ? copy.keys.length : -1, 8);
  const first = raw[before];
  t.equal(first.t === 'updates' ? first.keys.byteLength : -1, 0, 'the keys buffer moved away');
  await client.idle();
  t.equal((await client.status({ routes: false })).counts.notInstalled, 0);
  t.equal((await client.status({ routes: false })).counts.installed, 20);
});

t.test('routeStatuses answers many prefixes in one request, in order', async (t) => {
  const { client, sent } = pair(t);
  await client.start();
  client.update(key(244, 5, 192, 26), ['192.168.30.72']);
  client.update('fd00:10::/64', ['fd00:30::72']);
  client.markConverged();
  await client.idle();
  const before = sent.length;
  const got = await client.routeStatuses([
    '10.244.5.192/26',
    key(244, 5, 192, 26),
    'fd00:10::/64',
    '10.99.0.0/24',
  ]);
  t.equal(sent.length - before, 1, 'one request');
  t.same(
    got.map((s) => s && [s.prefix, s.installed, s.interfaces]),
    [
      ['10.244.5.192/26', true, ['ens33']],
      ['10.244.5.192/26', true, ['ens33']],
      ['fd00:10::/64', true, ['ens33']],
      null,
    ],
  );
  t.equal((await client.routeStatus('10.244.5.192/26'))?.shape, 'direct');
});

t.test('invalid prefixes are reported as KernelSync reports them', async (t) => {
  const { client } = pair(t);
  await client.start();
  client.update('10.244.5.1/26', ['192.168.30.72']);
  client.update(-64, ['192.168.30.72']);
  const [text, num] = await client.routeStatuses(['10.244.5.1/26', -64]);
  t.match(text?.reason, /host bits set/);
  t.match(num?.reason, /not an IPv4 prefix key/);
});

t.test('canReach and unreachableReason agree with KernelSync', async (t) => {
  const hops = [
    '192.168.30.72',
    '192.168.26.9',
    'fd00:30::72',
    '10.0.0.5',
    'fd00:99::1',
    'fe80::1%ens33',
    'not-an-address',
  ];
  for (const [ipip, mode] of [
    [true, 'CrossSubnet'],
    [false, 'CrossSubnet'],
    [true, 'Never'],
  ] as const) {
    const { client, sync } = pair(
      t,
      { pools: [{ cidr: '10.244.0.0/16', ipipMode: mode }] },
      fakeIp(ipip),
    );
    let events = 0;
    client.on('reachability', () => events++);
    await client.start();
    await client.idle();
    for (const h of hops) {
      t.equal(
        client.unreachableReason(h),
        sync().unreachableReason(h),
        `ipip ${ipip}, ${mode}: ${h}`,
      );
      t.equal(client.canReach(h), sync().canReach(h));
    }
    // From the configuration: on a connected segment always; off it only with a usable tunnel.
    t.equal(client.canReach('192.168.30.72'), true);
    t.equal(client.canReach('10.0.0.5'), ipip && mode === 'CrossSubnet');
    t.ok(events >= 1, 'the first topology read was announced');
    await client.stop();
  }
});

t.test('setPools changes canReach at once, as KernelSync.setPools does', async (t) => {
  const { client } = pair(t, { pools: [{ cidr: '10.244.0.0/16', ipipMode: 'CrossSubnet' }] });
  await client.start();
  await client.idle();
  t.equal(client.canReach('10.0.0.5'), true, 'CrossSubnet with ipip: off-segment is reachable');
  client.setPools([{ cidr: '10.244.0.0/16', ipipMode: 'Never' }]);
  t.match(client.unreachableReason('10.0.0.5'), /ipipMode is Never/, 'no wait for the worker');
  t.throws(() => client.setPools([{ cidr: '10.244.0.1/16', ipipMode: 'Never' }]), /invalid pool/);
});

t.test('a new segment reaches canReach through a reachability event', async (t) => {
  const { client, ip } = pair(t, { pools: [{ cidr: '10.244.0.0/16', ipipMode: 'Never' }] });
  await client.start();
  t.equal(client.canReach('192.168.40.9'), false);
  const seen = new Promise<void>((resolve) => client.on('reachability', () => resolve()));
  ip.addLink('ens34', ['192.168.40.71/24']);
  await client.resync();
  await seen;
  t.equal(client.canReach('192.168.40.9'), true);
});

/** A pino destination that keeps each JSON record it is given. */
function jsonLog(): { lines: Record<string, unknown>[]; sink: Writable } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, sink };
}

t.test("the worker's log records go through the client's logger", async (t) => {
  const { lines, sink } = jsonLog();
  const { client } = pair(t, { logger: pino({ level: 'info' }, sink), logLevel: 'info' });
  await client.start();
  await client.stop();
  const adopted = lines.find((l) => l.msg === 'adopted existing kernel routes (not flushed)');
  t.ok(adopted, 'the start record arrived');
  t.equal(adopted?.component, 'kernel', "KernelSync's binding kept");
  t.equal(adopted?.adopted, 0);
  t.notOk(
    lines.some((l) => (l.level as number) < 30),
    'nothing below the level',
  );
});

t.test('setLogLevel changes which records the worker sends', async (t) => {
  const { lines, sink } = jsonLog();
  const { client } = pair(t, { logger: pino({ level: 'debug' }, sink), logLevel: 'info' });
  await client.start();
  const noChange = (): number =>
    lines.filter((l) => l.msg === 'kernel reconcile: no change').length;
  // A full re-read that finds nothing to do is logged at debug.
  await client.resync();
  t.equal(noChange(), 0, 'at info the worker does not send it');
  client.setLogLevel('debug');
  await client.resync();
  t.equal(noChange(), 1, 'at debug it does');
  await client.stop();
});

t.test('start reports the routes adopted from the kernel', async (t) => {
  const ip = fakeIp();
  ip.external({
    dst: '10.244.9.0/26',
    table: 'main',
    proto: 'bgp',
    type: 'unicast',
    nexthops: [{ via: '192.168.30.72', dev: 'ens33' }],
  });
  ip.external({
    dst: '10.244.10.0/26',
    table: 'main',
    proto: 'bgp',
    type: 'blackhole',
    nexthops: [],
  });
  ip.external({
    dst: '10.99.0.0/24',
    table: 'main',
    proto: 'static',
    type: 'unicast',
    nexthops: [{ via: '192.168.30.1', dev: 'ens33' }],
  });
  const { client } = pair(t, {}, ip);
  t.same(await client.start(), { adopted: 2 }, 'our two tagged routes, not the static one');
});

t.test('stop posts what is buffered first, and drops later updates', async (t) => {
  const { client, sync } = pair(t);
  await client.start();
  client.update(key(244, 1, 0, 24), ['192.168.30.72']);
  await client.stop();
  client.update(key(244, 2, 0, 24), ['192.168.30.72']);
  // KernelSync.stop() applies nothing more; what matters is that the sync was told.
  t.equal(sync().routeStatus('10.244.1.0/24')?.origin, 'remote', 'the update before stop arrived');
  t.equal(sync().routeStatus('10.244.2.0/24'), null, 'the update after stop did not');
  await t.rejects(client.status(), /stopped/);
});

t.test('a dead worker rejects what waits and is reported once', async (t) => {
  const { client, crash } = pair(t);
  await client.start();
  const fatal: Error[] = [];
  client.on('fatal', (err) => fatal.push(err));
  // A request the host never answers: the crash comes first.
  const waiting = client.status();
  crash(new Error('boom'));
  crash(new Error('again'));
  await t.rejects(waiting, /boom/);
  await t.rejects(client.idle(), /boom/, 'later requests fail at once');
  t.same(
    fatal.map((e) => e.message),
    ['boom'],
  );
  client.update(key(244, 1, 0, 24), ['192.168.30.72']);
  await client.stop();
});

t.test('the worker entry sits next to the client in the same form', async (t) => {
  t.equal(
    workerEntry('file:///app/dist/src/kernel/client.js').href,
    'file:///app/dist/src/kernel/worker.js',
  );
  t.equal(
    workerEntry('file:///repo/src/kernel/client.ts').href,
    'file:///repo/src/kernel/worker.ts',
  );
  t.equal(workerEntry('file:///tmp/bundle/chunk-X.mjs').href, 'file:///tmp/bundle/worker.mjs');
});
