// KernelSync on real kernel tables inside network namespaces this file creates (pbk-*):
// install/replace/remove, ECMP, blackhole, drift healing, foreign routes, restart without churn,
// 10,000 routes. Needs root; asserts `ip -json route` output.
import t, { type Test } from 'tap';
import pino from 'pino';
import { spawn } from 'node:child_process';
import { IpCommandRunner, KernelSync } from '../../src/kernel/index.js';
import type { KernelSyncOptions } from '../../src/kernel/types.js';
import { ip, makeSegmentsNs, routes, type JsonRoute } from './kernel-ns.js';

/** A namespace with two segments: pbk-a 192.168.30.71/24 (+ fd00:30::71/64), pbk-b 192.168.26.71/24. */
const makeNs = (t: Test): string => makeSegmentsNs(t, 'pbk');

const isRoot = process.getuid?.() === 0;
const skip = isRoot ? false : 'needs root (CAP_NET_ADMIN) to create network namespaces';
const log = pino({ level: 'silent' });
function find(ns: string, dst: string, family: '-4' | '-6' = '-4'): JsonRoute | undefined {
  return routes(ns, family).find((r) => r.dst === dst);
}

function makeSync(t: Test, ns: string, opts: Partial<KernelSyncOptions> = {}): KernelSync {
  const sync = new KernelSync({
    runner: new IpCommandRunner({ netns: ns }),
    logger: log,
    pools: [{ cidr: '10.244.0.0/16', ipipMode: 'CrossSubnet' }],
    ...opts,
  });
  t.teardown(() => sync.stop());
  return sync;
}

async function until(what: string, fn: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (fn()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

t.test('install, replace, remove (IPv4 and IPv6)', { skip }, async (t) => {
  const ns = makeNs(t);
  const sync = makeSync(t, ns);
  sync.setRoutes([
    { prefix: '10.244.5.192/26', nexthops: ['192.168.30.72'] },
    { prefix: 'fd00:10:0:5::/64', nexthops: ['fd00:30::72'] },
  ]);
  await sync.start();
  sync.markConverged();
  await sync.idle();
  t.match(find(ns, '10.244.5.192/26'), { gateway: '192.168.30.72', dev: 'pbk-a' });
  t.match(find(ns, 'fd00:10:0:5::/64', '-6'), { gateway: 'fd00:30::72', dev: 'pbk-a' });

  sync.update('10.244.5.192/26', ['192.168.26.72']);
  await sync.idle();
  t.match(find(ns, '10.244.5.192/26'), { gateway: '192.168.26.72', dev: 'pbk-b' }, 'replaced');

  sync.setRoutes([]);
  await sync.idle();
  t.equal(find(ns, '10.244.5.192/26'), undefined, 'removed');
  t.equal(find(ns, 'fd00:10:0:5::/64', '-6'), undefined, 'removed (v6)');
  t.equal(sync.status().reconcileErrors, 0);
});

t.test('ECMP: one route, a nexthop per path', { skip }, async (t) => {
  const ns = makeNs(t);
  const sync = makeSync(t, ns);
  sync.setRoutes([{ prefix: '10.244.6.0/26', nexthops: ['192.168.30.72', '192.168.26.72'] }]);
  await sync.start();
  sync.markConverged();
  await sync.idle();
  const r = find(ns, '10.244.6.0/26');
  t.ok(r?.nexthops, 'multipath');
  t.same(r?.nexthops?.map((n) => [n.gateway, n.dev, n.weight]).sort(), [
    ['192.168.26.72', 'pbk-b', 1],
    ['192.168.30.72', 'pbk-a', 1],
  ]);
  t.equal(sync.routeStatus('10.244.6.0/26')?.shape, 'ecmp');
});

t.test('blackhole for own blocks', { skip }, async (t) => {
  const ns = makeNs(t);
  const sync = makeSync(t, ns);
  sync.setOwnBlocks(['10.244.118.192/26']);
  await sync.start();
  sync.markConverged();
  await sync.idle();
  t.match(find(ns, '10.244.118.192/26'), { type: 'blackhole' });
  t.equal(sync.routeStatus('10.244.118.192/26')?.shape, 'blackhole');
});

t.test('a route deleted externally is healed', { skip }, async (t) => {
  const ns = makeNs(t);
  const sync = makeSync(t, ns, { driftDelayMs: 50 });
  const drifts: string[] = [];
  sync.on('drift', (d) => drifts.push(...d.map((e) => e.prefix)));
  sync.setRoutes([{ prefix: '10.244.5.192/26', nexthops: ['192.168.30.72'] }]);
  await sync.start();
  sync.markConverged();
  await sync.idle();
  await new Promise((r) => setTimeout(r, 300)); // let the monitor settle on our own events
  ip('-n', ns, 'route', 'del', '10.244.5.192/26', 'proto', 'bgp');
  t.equal(find(ns, '10.244.5.192/26'), undefined, 'gone');
  await until('the route to come back', () => find(ns, '10.244.5.192/26') !== undefined);
  t.match(find(ns, '10.244.5.192/26'), { gateway: '192.168.30.72', dev: 'pbk-a' });
  await until('the drift event', () => drifts.length > 0);
  t.same(drifts, ['10.244.5.192/26']);
});

t.test('a foreign route with another tag is never touched', { skip }, async (t) => {
  const ns = makeNs(t);
  ip('-n', ns, 'route', 'add', '10.244.1.0/26', 'via', '192.168.30.1', 'proto', 'static');
  ip('-n', ns, 'route', 'add', '10.99.0.0/16', 'via', '192.168.30.1', 'proto', 'static');
  const sync = makeSync(t, ns);
  sync.setRoutes([
    { prefix: '10.244.1.0/26', nexthops: ['192.168.30.72'] },
    { prefix: '10.244.2.0/26', nexthops: ['192.168.30.72'] },
  ]);
  await sync.start();
  sync.markConverged();
  await sync.idle();
  await sync.resync();
  const statics = routes(ns, '-4', 'static');
  t.same(
    statics.map((r) => [r.dst, r.gateway]).sort(),
    [
      ['10.244.1.0/26', '192.168.30.1'],
      ['10.99.0.0/16', '192.168.30.1'],
    ],
    'static routes unchanged',
  );
  t.equal(sync.routeStatus('10.244.1.0/26')?.installed, false);
  t.match(sync.routeStatus('10.244.1.0/26')?.lastError, /File exists/);
  t.ok(find(ns, '10.244.2.0/26'), 'the other route went in');
  await sync.stop({ flush: true });
  t.equal(routes(ns).length, 0, 'flush removed ours');
  t.equal(routes(ns, '-4', 'static').length, 2, 'flush left the static routes');
});

t.test(
  'restart keeps the routes: zero deletions or re-adds for unchanged routes',
  { skip },
  async (t) => {
    const ns = makeNs(t);
    const input = [
      { prefix: '10.244.1.0/26', nexthops: ['192.168.30.72'] },
      { prefix: '10.244.2.0/26', nexthops: ['192.168.30.72', '192.168.26.72'] },
      { prefix: 'fd00:10:0:5::/64', nexthops: ['fd00:30::72'] },
    ];
    const first = makeSync(t, ns);
    first.setOwnBlocks(['10.244.118.192/26']);
    first.setRoutes(input);
    await first.start();
    first.markConverged();
    await first.idle();
    await first.stop();
    t.equal(routes(ns).length + routes(ns, '-6').length, 4, 'routes stay while the daemon is away');

    const events: string[] = [];
    const mon = spawn('ip', ['-n', ns, 'monitor', 'route'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    t.teardown(() => mon.kill());
    mon.stdout.setEncoding('utf8');
    mon.stdout.on('data', (c: string) =>
      events.push(...c.split('\n').filter((l) => l.trim() !== '')),
    );
    await new Promise((r) => setTimeout(r, 300));

    const second = makeSync(t, ns);
    second.setOwnBlocks(['10.244.118.192/26']);
    second.setRoutes(input);
    await second.start();
    second.markConverged();
    await second.idle();
    await second.resync();
    await new Promise((r) => setTimeout(r, 500));
    // Only our routes count: the kernel itself may add link-local/local routes meanwhile (IPv6 DAD).
    const ours = events.filter(
      (l) =>
        l.includes('proto bgp') ||
        input.some((r) => l.includes(r.prefix)) ||
        l.includes('10.244.118.192/26'),
    );
    t.same(ours, [], 'ip monitor saw no deletion or re-add of our routes');
    t.equal(second.status().counts.installed, 4);
    await second.stop();
  },
);

t.test('10,000 routes converge', { skip }, async (t) => {
  const ns = makeNs(t);
  const sync = makeSync(t, ns);
  const want = [];
  for (let i = 0; i < 10_000; i++) {
    want.push({
      prefix: `10.${100 + (i >> 10)}.${(i >> 2) & 255}.${(i & 3) * 64}/26`,
      nexthops: ['192.168.30.72'],
    });
  }
  const t0 = Date.now();
  sync.setRoutes(want);
  await sync.start();
  sync.markConverged();
  await sync.idle();
  const ms = Date.now() - t0;
  const got = routes(ns);
  t.equal(got.length, 10_000, 'all in the kernel');
  const dsts = new Set(got.map((r) => r.dst));
  t.ok(
    want.every((w) => dsts.has(w.prefix)),
    'every prefix present',
  );
  t.equal(sync.status().counts.installed, 10_000);
  t.comment(`10,000 routes installed in ${ms} ms`);
  sync.setRoutes([]);
  await sync.idle();
  t.equal(routes(ns).length, 0, 'and all removed');
});
