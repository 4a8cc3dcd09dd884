// KernelSync against an in-memory `ip` and a manual clock: the diff, coalescing, adoption on
// start, convergence gating, foreign routes, drift healing, periodic resync, tunl0, stop/flush.
import t from 'tap';
import pino from 'pino';
import { KernelSync } from '../../src/kernel/index.js';
import type { DriftEntry, KernelSyncOptions } from '../../src/kernel/types.js';
import { FakeClock, FakeIp, type FakeRoute } from './fake-ip.js';

function setup(opts: Partial<KernelSyncOptions> = {}) {
  const ip = new FakeIp();
  const clock = new FakeClock();
  ip.addLink('lo', ['127.0.0.1/8'], 65536);
  ip.addLink('ens32', ['192.168.26.71/24']);
  ip.addLink('ens33', ['192.168.30.71/24', 'fd00:30::71/64']);
  const sync = new KernelSync({
    runner: ip,
    clock,
    logger: pino({ level: 'silent' }),
    pools: [{ cidr: '10.244.0.0/16', ipipMode: 'CrossSubnet' }],
    ...opts,
  });
  return { ip, clock, sync };
}

const route = (dst: string, via: string, dev: string, proto = 'bgp'): FakeRoute => ({
  dst,
  table: 'main',
  proto,
  type: 'unicast',
  nexthops: [{ via, dev }],
});

t.test('start adds the desired routes in one batch, in Calico shapes', async (t) => {
  const { ip, clock, sync } = setup({ pools: [{ cidr: '10.244.0.0/16', ipipMode: 'Never' }] });
  sync.setOwnBlocks(['10.244.118.192/26']);
  sync.setRoutes([
    { prefix: '10.244.5.192/26', nexthops: ['192.168.30.72'] },
    { prefix: '10.244.6.0/26', nexthops: ['192.168.26.72', '192.168.30.72'] },
  ]);
  await sync.start();
  await clock.advance(0);
  await sync.idle();
  t.equal(ip.batchCount, 1);
  t.same([...ip.batches[0]].sort(), [
    'route add 10.244.5.192/26 via 192.168.30.72 dev ens33 proto bgp',
    'route add 10.244.6.0/26 proto bgp nexthop via 192.168.26.72 dev ens32 weight 1 nexthop via 192.168.30.72 dev ens33 weight 1',
    'route add blackhole 10.244.118.192/26 proto bgp',
  ]);
  const st = sync.status();
  t.equal(st.counts.installed, 3);
  t.same(st.counts.byShape, { direct: 1, ipip: 0, blackhole: 1, ecmp: 1 });
  const countsOnly = sync.status({ routes: false });
  t.same(countsOnly.routes, [], 'metrics form: no per-route list');
  t.same(countsOnly.counts, st.counts, 'metrics form: the same counts');
  t.same(sync.routeStatus('10.244.5.192/26')?.interfaces, ['ens33']);
  await sync.stop();
});

t.test('the diff: only changed prefixes reach the kernel', async (t) => {
  const { ip, clock, sync } = setup();
  sync.setRoutes([
    { prefix: '10.244.1.0/26', nexthops: ['192.168.30.72'] },
    { prefix: '10.244.2.0/26', nexthops: ['192.168.30.73'] },
    { prefix: '10.244.3.0/26', nexthops: ['192.168.30.74'] },
  ]);
  await sync.start();
  sync.markConverged();
  await sync.idle();
  const before = ip.batchCount;
  sync.setRoutes([
    { prefix: '10.244.1.0/26', nexthops: ['192.168.30.72'] }, // unchanged
    { prefix: '10.244.2.0/26', nexthops: ['192.168.26.73'] }, // changed
    // 10.244.3.0/26 withdrawn
  ]);
  await clock.advance(20);
  await sync.idle();
  t.equal(ip.batchCount, before + 1, 'one batch');
  t.same([...ip.batches[before]].sort(), [
    'route del 10.244.3.0/26 proto bgp',
    'route replace 10.244.2.0/26 via 192.168.26.73 dev ens32 proto bgp',
  ]);
  // Same input again: nothing to do, no batch at all.
  sync.setRoutes([
    { prefix: '10.244.1.0/26', nexthops: ['192.168.30.72'] },
    { prefix: '10.244.2.0/26', nexthops: ['192.168.26.73'] },
  ]);
  await clock.advance(50);
  t.equal(ip.batchCount, before + 1, 'no batch for an unchanged table');
  await sync.stop();
});

t.test('coalescing: changes inside 20 ms share one batch', async (t) => {
  const { ip, clock, sync } = setup();
  await sync.start();
  sync.markConverged();
  await clock.advance(0);
  await sync.idle();
  const before = ip.batchCount;
  sync.update('10.244.1.0/26', ['192.168.30.72']);
  await clock.advance(10);
  sync.update('10.244.2.0/26', ['192.168.30.73']);
  await clock.advance(9);
  t.equal(ip.batchCount, before, 'nothing sent before the window closes');
  await clock.advance(1);
  await sync.idle();
  t.equal(ip.batchCount, before + 1, 'one batch at 20 ms');
  t.equal(ip.batches[before].length, 2, 'holding both changes');
  sync.update('10.244.1.0/26', null);
  await clock.advance(20);
  await sync.idle();
  t.same(
    ip.batches[before + 1],
    ['route del 10.244.1.0/26 proto bgp'],
    'a later change is its own batch',
  );
  await sync.stop();
});

t.test(
  'adoption: tagged routes are kept on start, reconciled only after convergence',
  async (t) => {
    const { ip, clock, sync } = setup({ convergeTimeoutMs: 5000 });
    ip.external(route('10.244.1.0/26', '192.168.30.72', 'ens33')); // still wanted, same
    ip.external(route('10.244.2.0/26', '192.168.30.99', 'ens33')); // wanted, next hop moved
    ip.external(route('10.244.3.0/26', '192.168.30.98', 'ens33')); // no longer wanted
    ip.external(route('10.99.0.0/16', '192.168.30.1', 'ens33', 'static')); // not ours
    sync.setRoutes([
      { prefix: '10.244.1.0/26', nexthops: ['192.168.30.72'] },
      { prefix: '10.244.2.0/26', nexthops: ['192.168.30.73'] },
      { prefix: '10.244.4.0/26', nexthops: ['192.168.30.74'] }, // new
    ]);
    await sync.start();
    await clock.advance(0);
    await sync.idle();
    t.same(
      ip.batches.flat(),
      ['route add 10.244.4.0/26 via 192.168.30.74 dev ens33 proto bgp'],
      'only new prefixes before convergence',
    );
    t.ok(ip.get('10.244.3.0/26'), 'stale route kept until convergence');
    t.equal(sync.routeStatus('10.244.2.0/26')?.installed, false);
    t.match(sync.routeStatus('10.244.2.0/26')?.reason, /convergence/);
    t.equal(sync.routeStatus('10.244.3.0/26')?.origin, 'adopted');
    await clock.advance(5000); // the convergence timeout
    await sync.idle();
    t.ok(sync.converged);
    const after = ip.batches.slice(1).flat().sort();
    t.same(after, [
      'route del 10.244.3.0/26 proto bgp',
      'route replace 10.244.2.0/26 via 192.168.30.73 dev ens33 proto bgp',
    ]);
    t.notOk(
      after.some((l) => l.includes('10.244.1.0/26')),
      'the unchanged route is never touched',
    );
    t.equal(ip.get('10.99.0.0/16')?.proto, 'static', 'foreign route untouched');
    await sync.stop();
  },
);

t.test('restart: a second instance with the same input sends nothing', async (t) => {
  const first = setup();
  const input = [
    { prefix: '10.244.1.0/26', nexthops: ['192.168.30.72'] },
    { prefix: '10.244.2.0/26', nexthops: ['192.168.30.72', '192.168.26.72'] },
  ];
  first.sync.setOwnBlocks(['10.244.118.192/26']);
  first.sync.setRoutes(input);
  await first.sync.start();
  first.sync.markConverged();
  await first.sync.idle();
  await first.sync.stop();
  t.equal(first.ip.routes.size, 3, 'routes left in place on stop');
  const clock = new FakeClock();
  const second = new KernelSync({
    runner: first.ip,
    clock,
    logger: pino({ level: 'silent' }),
    pools: [{ cidr: '10.244.0.0/16', ipipMode: 'CrossSubnet' }],
  });
  const before = first.ip.batchCount;
  second.setOwnBlocks(['10.244.118.192/26']);
  second.setRoutes(input);
  await second.start();
  second.markConverged();
  await clock.advance(100);
  await second.idle();
  t.equal(first.ip.batchCount, before, 'no batch: zero deletions and re-adds');
  t.equal(second.status().counts.installed, 3);
  await second.stop();
});

t.test('a foreign route in the way is never touched and is reported', async (t) => {
  const { ip, clock, sync } = setup();
  ip.external(route('10.244.1.0/26', '192.168.30.1', 'ens33', 'static'));
  sync.setRoutes([
    { prefix: '10.244.1.0/26', nexthops: ['192.168.30.72'] },
    { prefix: '10.244.2.0/26', nexthops: ['192.168.30.72'] },
  ]);
  await sync.start();
  sync.markConverged();
  await clock.advance(0);
  await sync.idle();
  t.equal(ip.get('10.244.1.0/26')?.proto, 'static', 'still the static route');
  t.equal(ip.get('10.244.1.0/26')?.nexthops[0].via, '192.168.30.1');
  t.equal(ip.get('10.244.2.0/26')?.proto, 'bgp', 'the rest of the batch went in (-force)');
  const s = sync.routeStatus('10.244.1.0/26');
  t.equal(s?.installed, false);
  t.match(s?.lastError, /File exists/);
  t.notOk(
    ip.batches
      .flat()
      .some(
        (l) =>
          l.startsWith('route replace 10.244.1.0/26') || l.startsWith('route del 10.244.1.0/26'),
      ),
    'never replaced or deleted',
  );
  const n = ip.batchCount;
  sync.update('10.244.3.0/26', ['192.168.30.72']);
  await clock.advance(20);
  await sync.idle();
  t.notOk(
    ip.batches
      .slice(n)
      .flat()
      .some((l) => l.includes('10.244.1.0/26')),
    'not retried on every change',
  );
  await sync.stop();
});

t.test('per-line batch failures map to their routes', async (t) => {
  const { ip, clock, sync } = setup();
  ip.failOn.set('10.244.2.0/26', 'Error: Nexthop has invalid gateway.');
  sync.setRoutes([
    { prefix: '10.244.1.0/26', nexthops: ['192.168.30.72'] },
    { prefix: '10.244.2.0/26', nexthops: ['192.168.30.73'] },
    { prefix: '10.244.3.0/26', nexthops: ['192.168.30.74'] },
  ]);
  const errors: string[] = [];
  sync.on('route-error', (e) => errors.push(e.prefix));
  await sync.start();
  await clock.advance(0);
  await sync.idle();
  t.same(errors, ['10.244.2.0/26']);
  t.equal(sync.routeStatus('10.244.2.0/26')?.lastError, 'Nexthop has invalid gateway.');
  t.equal(sync.routeStatus('10.244.1.0/26')?.installed, true);
  t.equal(sync.routeStatus('10.244.3.0/26')?.installed, true);
  await sync.stop();
});

t.test('drift: a route deleted behind our back is healed and logged', async (t) => {
  const { ip, clock, sync } = setup();
  sync.setRoutes([{ prefix: '10.244.1.0/26', nexthops: ['192.168.30.72'] }]);
  await sync.start();
  sync.markConverged();
  await clock.advance(0);
  await sync.idle();
  const drifts: DriftEntry[][] = [];
  sync.on('drift', (d) => drifts.push(d));
  ip.external(route('10.244.1.0/26', '192.168.30.72', 'ens33'), 'del');
  t.equal(ip.get('10.244.1.0/26'), undefined);
  await clock.advance(100); // drift delay
  await sync.idle();
  t.equal(ip.get('10.244.1.0/26')?.nexthops[0].via, '192.168.30.72', 'healed');
  t.equal(drifts.length, 1);
  t.same(drifts[0], [
    {
      prefix: '10.244.1.0/26',
      expected: '10.244.1.0/26 via 192.168.30.72 dev ens33 proto bgp',
      found: null,
    },
  ]);
  t.equal(sync.status().driftRepaired, 1);
  // Our own changes are not drift.
  sync.update('10.244.2.0/26', ['192.168.30.73']);
  await clock.advance(200);
  await sync.idle();
  t.equal(drifts.length, 1, 'no drift from our own batch');
  await sync.stop();
});

t.test('drift: a route of ours changed by someone else is put back', async (t) => {
  const { ip, clock, sync } = setup();
  sync.setRoutes([{ prefix: '10.244.1.0/26', nexthops: ['192.168.30.72'] }]);
  await sync.start();
  sync.markConverged();
  await clock.advance(0);
  await sync.idle();
  ip.external(route('10.244.1.0/26', '192.168.26.9', 'ens32'));
  await clock.advance(100);
  await sync.idle();
  t.equal(ip.get('10.244.1.0/26')?.nexthops[0].via, '192.168.30.72');
  await sync.stop();
});

t.test('periodic resync heals without a monitor', async (t) => {
  const { ip, clock, sync } = setup({ monitor: false, resyncIntervalMs: 60_000 });
  sync.setRoutes([{ prefix: '10.244.1.0/26', nexthops: ['192.168.30.72'] }]);
  await sync.start();
  sync.markConverged();
  await clock.advance(0);
  await sync.idle();
  t.equal(ip.monitorCount, 0);
  ip.routes.clear();
  await clock.advance(59_000);
  t.equal(ip.routes.size, 0, 'not yet');
  await clock.advance(1_000);
  await sync.idle();
  t.ok(ip.get('10.244.1.0/26'), 'healed at 60 s');
  await sync.stop();
});

t.test(
  'no ipip in the kernel: said once, affected routes not installed, nothing crashes',
  async (t) => {
    const { ip, clock, sync } = setup();
    ip.ipipSupported = false;
    const said: string[] = [];
    sync.on('ipip-unavailable', (r) => said.push(r));
    sync.setRoutes([
      { prefix: '10.244.1.0/26', nexthops: ['192.168.30.72'] },
      { prefix: '10.244.7.0/26', nexthops: ['10.0.0.5'] },
    ]);
    await sync.start();
    sync.markConverged();
    await clock.advance(0);
    await sync.idle();
    await sync.resync();
    sync.setPools([{ cidr: '10.244.0.0/16', ipipMode: 'CrossSubnet' }]);
    await clock.advance(20);
    await sync.idle();
    t.equal(said.length, 1, 'said once');
    t.match(said[0], /ipip/);
    const s = sync.routeStatus('10.244.7.0/26');
    t.equal(s?.installed, false);
    t.match(s?.reason, /ipip/);
    t.equal(sync.routeStatus('10.244.1.0/26')?.installed, true, 'direct routes unaffected');
    t.equal(sync.status().tunnel.available, false);
    t.notOk(ip.batches.flat().some((l) => l.includes('tunl0')));
    await sync.stop();
  },
);

t.test(
  'tunl0: created, up, MTU underlay-20, pmtudisc, address from the first own block',
  async (t) => {
    const { ip, clock, sync } = setup();
    ip.ipipSupported = true;
    sync.setOwnBlocks(['fd00:10::/64', '10.244.118.192/26', '10.244.200.0/26']);
    sync.setRoutes([{ prefix: '10.244.7.0/26', nexthops: ['10.0.0.5'] }]);
    await sync.start();
    await clock.advance(0);
    await sync.idle();
    t.same(ip.tunnel, {
      name: 'tunl0',
      mtu: 1480,
      up: true,
      pmtudisc: true,
      addrs: ['10.244.118.192/32'],
    });
    t.ok(
      ip.batches
        .flat()
        .includes('route add 10.244.7.0/26 via 10.0.0.5 dev tunl0 proto bgp onlink mtu 1480'),
      'IPIP shape with the tunnel MTU',
    );
    const st = sync.status();
    t.equal(st.tunnel.available, true);
    t.equal(st.tunnel.mtu, 1480);
    t.equal(sync.routeStatus('10.244.7.0/26')?.shape, 'ipip');
    // The first block changes: the address follows.
    sync.setOwnBlocks(['10.244.200.0/26']);
    await clock.advance(20);
    await sync.idle();
    t.same(ip.tunnel?.addrs, ['10.244.200.0/32']);
    await sync.stop();
  },
);

t.test('tunl0 MTU follows a configured underlay MTU', async (t) => {
  const { ip, clock, sync } = setup({ underlayMtu: 9000 });
  ip.ipipSupported = true;
  sync.setRoutes([{ prefix: '10.244.7.0/26', nexthops: ['10.0.0.5'] }]);
  await sync.start();
  await clock.advance(0);
  await sync.idle();
  t.equal(ip.tunnel?.mtu, 8980);
  t.ok(
    ip.batches
      .flat()
      .includes('route add 10.244.7.0/26 via 10.0.0.5 dev tunl0 proto bgp onlink mtu 8980'),
  );
  await sync.stop();
});

t.test('configurable table and protocol', async (t) => {
  const { ip, clock, sync } = setup({ table: 100, protocol: 200 });
  ip.external({ ...route('10.244.9.0/26', '192.168.30.9', 'ens33'), table: 'main' }); // proto bgp in main: not ours now
  sync.setRoutes([{ prefix: '10.244.1.0/26', nexthops: ['192.168.30.72'] }]);
  await sync.start();
  sync.markConverged();
  await clock.advance(0);
  await sync.idle();
  t.same(ip.batches.flat(), [
    'route add 10.244.1.0/26 via 192.168.30.72 dev ens33 proto 200 table 100',
  ]);
  t.ok(ip.get('10.244.9.0/26'), 'a bgp route in another table is not ours');
  t.ok(ip.calls.some((c) => c.args.join(' ') === '-json route show table 100 proto 200'));
  await sync.stop();
});

t.test('stop keeps routes; stop({flush}) removes ours only', async (t) => {
  const { ip, clock, sync } = setup();
  ip.external(route('10.99.0.0/16', '192.168.30.1', 'ens33', 'static'));
  sync.setOwnBlocks(['10.244.118.192/26']);
  sync.setRoutes([{ prefix: '10.244.1.0/26', nexthops: ['192.168.30.72'] }]);
  await sync.start();
  await clock.advance(0);
  await sync.idle();
  t.equal(ip.routes.size, 3);
  await sync.stop({ flush: true });
  t.same(
    [...ip.routes.values()].map((r) => r.dst),
    ['10.99.0.0/16'],
  );
  t.equal(ip.monitorCount, 0, 'monitor stopped');
  t.equal(clock.pending(), 0, 'no timers left');
});

t.test('invalid input is reported, not sent', async (t) => {
  const { ip, clock, sync } = setup();
  sync.setRoutes([
    { prefix: '10.244.1.1/26', nexthops: ['192.168.30.72'] },
    { prefix: '10.244.2.0/26', nexthops: ['not-an-ip'] },
  ]);
  await sync.start();
  await clock.advance(0);
  await sync.idle();
  t.equal(ip.batchCount, 0);
  t.match(sync.routeStatus('10.244.1.1/26')?.reason, /host bits/);
  t.match(sync.routeStatus('10.244.2.0/26')?.reason, /invalid next hop/);
  await sync.stop();
});

t.test('IPv6 routes: read with ip -6, direct via the v6 segment', async (t) => {
  const { ip, clock, sync } = setup();
  sync.setOwnBlocks(['fd00:10:0:1::/64']);
  sync.setRoutes([{ prefix: 'fd00:10:0:5::/64', nexthops: ['fd00:30::72'] }]);
  await sync.start();
  await clock.advance(0);
  await sync.idle();
  t.same([...ip.batches[0]].sort(), [
    'route add blackhole fd00:10:0:1::/64 proto bgp',
    'route add fd00:10:0:5::/64 via fd00:30::72 dev ens33 proto bgp',
  ]);
  t.ok(ip.calls.some((c) => c.args.join(' ') === '-6 -json route show table main proto bgp'));
  await sync.stop();
});

t.test('a big table streams into ONE ip -batch, in chunks', async (t) => {
  const { ip, clock, sync } = setup();
  const table = [];
  for (let i = 0; i < 5000; i++) {
    table.push({ prefix: `10.${100 + (i >> 8)}.${i & 255}.0/26`, nexthops: ['192.168.30.72'] });
  }
  sync.setRoutes(table);
  await sync.start();
  await clock.advance(0);
  await sync.idle();
  t.equal(ip.batchCount, 1, 'one batch');
  t.equal(ip.batches[0].length, 5000);
  t.ok(ip.chunks > 1, `written in ${ip.chunks} chunks`);
  t.equal(ip.routes.size, 5000);
  t.equal(sync.status().counts.installed, 5000);
  await sync.stop();
});

t.test('a runner without streaming gets the batch in one write', async (t) => {
  const ip = new FakeIp();
  ip.addLink('ens33', ['192.168.30.71/24']);
  const clock = new FakeClock();
  const plain = { run: ip.run.bind(ip), stream: ip.stream.bind(ip) };
  const sync = new KernelSync({ runner: plain, clock, logger: pino({ level: 'silent' }) });
  sync.setRoutes([
    { prefix: '10.244.1.0/26', nexthops: ['192.168.30.72'] },
    { prefix: '10.244.2.0/26', nexthops: ['192.168.30.73'] },
  ]);
  await sync.start();
  await clock.advance(0);
  await sync.idle();
  t.equal(ip.batchCount, 1);
  t.equal(ip.routes.size, 2);
  await sync.stop();
});

t.test('a big batch pauses the monitor and verifies the table afterwards', async (t) => {
  const { ip, clock, sync } = setup({ monitorPauseOps: 3 });
  await sync.start();
  sync.markConverged();
  await clock.advance(0);
  await sync.idle();
  t.equal(ip.monitorCount, 1);
  const reads = () =>
    ip.calls.filter((c) => c.args.join(' ') === '-json route show table main proto bgp').length;
  const before = reads();
  sync.setRoutes([
    { prefix: '10.244.1.0/26', nexthops: ['192.168.30.72'] },
    { prefix: '10.244.2.0/26', nexthops: ['192.168.30.73'] },
    { prefix: '10.244.3.0/26', nexthops: ['192.168.30.74'] },
  ]);
  await clock.advance(20);
  await sync.idle();
  t.equal(ip.monitorCount, 1, 'monitor running again after the batch');
  await clock.advance(5000);
  await sync.idle();
  t.equal(reads(), before + 1, 'one verification read of the table');
  await sync.stop();
});

t.test(
  'canReach: connected segments always; off-segment only through a usable tunnel',
  async (t) => {
    for (const [ipipSupported, mode, offSegment] of [
      [true, 'CrossSubnet', true],
      [false, 'CrossSubnet', false],
      [true, 'Never', false],
    ] as const) {
      const { ip, clock, sync } = setup({ pools: [{ cidr: '10.244.0.0/16', ipipMode: mode }] });
      ip.ipipSupported = ipipSupported;
      let events = 0;
      sync.on('reachability', () => events++);
      await sync.start();
      await clock.advance(0);
      await sync.idle();
      const what = `ipip ${ipipSupported ? 'present' : 'missing'}, ${mode}`;
      t.equal(sync.canReach('192.168.30.72'), true, `${what}: on ens33's segment`);
      t.equal(sync.canReach('fd00:30::72'), true, `${what}: IPv6 on a connected segment`);
      t.equal(sync.canReach('10.0.0.5'), offSegment, `${what}: off every segment`);
      t.equal(sync.canReach('fd00:99::1'), false, `${what}: IPv6 off-segment never (IPIP is IPv4)`);
      t.equal(sync.canReach('not-an-address'), false);
      const reason = sync.unreachableReason('10.0.0.5');
      if (offSegment) t.equal(reason, null, `${what}: no reason when reachable`);
      else {
        t.match(
          reason,
          mode === 'Never' ? /ipipMode is Never/ : /no IPIP support/,
          `${what}: the reason names the cause`,
        );
      }
      t.ok(events >= 1, `${what}: reachability announced after the first topology read`);
      await sync.stop();
    }
  },
);
