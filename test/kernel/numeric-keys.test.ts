// KernelSync fed IPv4 prefixes as numeric keys (address * 64 + length): numbers and text meet in
// one entry, withdrawal and status work by either, shared next-hop arrays are never mutated, and
// routes installed in sync (held without a route object per prefix) still have drift detected
// and repaired.
import t from 'tap';
import pino from 'pino';
import { KernelSync, formatV4PrefixKey, v4PrefixKey } from '../../src/kernel/index.js';
import type { DriftEntry, KernelSyncOptions } from '../../src/kernel/types.js';
import { FakeClock, FakeIp, type FakeRoute } from './fake-ip.js';

function setup(opts: Partial<KernelSyncOptions> = {}) {
  const ip = new FakeIp();
  const clock = new FakeClock();
  ip.addLink('ens32', ['192.168.26.71/24']);
  ip.addLink('ens33', ['192.168.30.71/24']);
  const sync = new KernelSync({
    runner: ip,
    clock,
    logger: pino({ level: 'silent' }),
    pools: [{ cidr: '10.244.0.0/16', ipipMode: 'Never' }],
    ...opts,
  });
  return { ip, clock, sync };
}

async function started(opts: Partial<KernelSyncOptions> = {}) {
  const s = setup(opts);
  await s.sync.start();
  s.sync.markConverged();
  await s.clock.advance(0);
  await s.sync.idle();
  return s;
}

async function settleSync(clock: FakeClock, sync: KernelSync, ms = 20): Promise<void> {
  await clock.advance(ms);
  await sync.idle();
}

/** 10.244.5.192/26 as a key, computed from its octets. */
const K = v4PrefixKey(((10 * 256 + 244) * 256 + 5) * 256 + 192, 26);
const NH: readonly string[] = Object.freeze(['192.168.30.72']);

t.test('a numeric key installs the same line as its text', async (t) => {
  const { ip, clock, sync } = await started();
  sync.update(K, NH);
  await settleSync(clock, sync);
  t.same(ip.batches.at(-1), ['route add 10.244.5.192/26 via 192.168.30.72 dev ens33 proto bgp']);
  t.equal(sync.routeStatus('10.244.5.192/26')?.installed, true, 'status by text');
  t.equal(sync.routeStatus(K)?.installed, true, 'status by key');
  t.equal(sync.routeStatus('10.244.5.192/26')?.prefix, '10.244.5.192/26');
  await sync.stop();
});

t.test('update by number and by text for one prefix meet in one entry', async (t) => {
  const { ip, clock, sync } = await started();
  sync.update(K, NH);
  // The same next hops by text: no change at all.
  sync.update('10.244.5.192/26', ['192.168.30.72']);
  await settleSync(clock, sync);
  t.equal(ip.batches.length, 1, 'one batch');
  t.equal(ip.batches[0].length, 1, 'one line: one entry');
  // New next hops by text replace the route given by number.
  sync.update('10.244.5.192/26', ['192.168.26.72']);
  await settleSync(clock, sync);
  t.same(ip.batches.at(-1), [
    'route replace 10.244.5.192/26 via 192.168.26.72 dev ens32 proto bgp',
  ]);
  t.equal(sync.status().routes.length, 1, 'status lists the prefix once');
  // Withdrawal by number of a prefix last given by text.
  sync.update(K, null);
  await settleSync(clock, sync);
  t.same(ip.batches.at(-1), ['route del 10.244.5.192/26 proto bgp']);
  t.equal(ip.get('10.244.5.192/26'), undefined);
  t.equal(sync.routeStatus('10.244.5.192/26'), null, 'forgotten once deleted');
  t.equal(sync.status().routes.length, 0);
  await sync.stop();
});

t.test('withdrawal by text of a prefix given by number', async (t) => {
  const { ip, clock, sync } = await started();
  const host = v4PrefixKey(((10 * 256 + 244) * 256 + 9) * 256 + 1, 32);
  sync.update(host, NH);
  await settleSync(clock, sync);
  t.same(
    ip.batches.at(-1),
    ['route add 10.244.9.1 via 192.168.30.72 dev ens33 proto bgp'],
    '/32 as iproute2 prints it',
  );
  t.equal(sync.routeStatus('10.244.9.1/32')?.installed, true, 'found with /32');
  t.equal(sync.routeStatus('10.244.9.1')?.installed, true, 'found without /32');
  sync.update('10.244.9.1/32', null);
  await settleSync(clock, sync);
  t.equal(ip.get('10.244.9.1'), undefined);
  await sync.stop();
});

t.test('a shared next-hop array is kept as is and serves many prefixes', async (t) => {
  const { ip, clock, sync } = await started();
  const shared = ['192.168.30.72', '192.168.26.72'];
  const copy = [...shared];
  for (let i = 0; i < 300; i++)
    sync.update(v4PrefixKey((10 * 256 + 200) * 65536 + i * 256, 24), shared);
  await settleSync(clock, sync);
  t.same(shared, copy, 'not mutated (not even sorted)');
  t.equal(ip.routes.size, 300);
  const st = sync.routeStatus('10.200.7.0/24');
  t.equal(st?.shape, 'ecmp');
  t.same(st?.interfaces, ['ens32', 'ens33'], 'next hops in kernel order');
  await sync.stop();
});

t.test('an invalid numeric key is reported, not sent', async (t) => {
  const { ip, clock, sync } = await started();
  const bad = v4PrefixKey(0x0af40500, 24) + 64; // 10.244.5.1/24: host bits set
  sync.update(bad, NH);
  sync.update(1.5, NH);
  await settleSync(clock, sync);
  t.equal(ip.batches.length, 0, 'nothing sent');
  t.match(sync.routeStatus(String(bad))?.reason, /not an IPv4 prefix key/);
  await sync.stop();
});

const ours = (dst: string, via: string, dev: string): FakeRoute => ({
  dst,
  table: 'main',
  proto: 'bgp',
  type: 'unicast',
  nexthops: [{ via, dev }],
});

t.test(
  'in sync without a route object: a delete behind our back is drift and is healed',
  async (t) => {
    const { ip, clock, sync } = await started();
    const keys = [0, 1, 2].map((i) => v4PrefixKey(0x0af40100 + i * 256, 24));
    for (const k of keys) sync.update(k, NH);
    await settleSync(clock, sync);
    // A full resync re-reads the table: the routes are in sync, no drift, nothing sent.
    const before = ip.batches.length;
    const drifts: DriftEntry[][] = [];
    sync.on('drift', (d) => drifts.push(d));
    await sync.resync();
    t.equal(ip.batches.length, before, 'nothing to do after a read of an in-sync table');
    t.equal(drifts.length, 0);
    ip.external(ours('10.244.2.0/24', '192.168.30.72', 'ens33'), 'del');
    await settleSync(clock, sync, 100);
    t.equal(ip.get('10.244.2.0/24')?.nexthops[0].via, '192.168.30.72', 'healed');
    t.same(drifts, [
      [
        {
          prefix: '10.244.2.0/24',
          expected: '10.244.2.0/24 via 192.168.30.72 dev ens33 proto bgp',
          found: null,
        },
      ],
    ]);
    t.equal(sync.status().driftRepaired, 1);
    await sync.stop();
  },
);

t.test(
  'in sync without a route object: a change behind our back is drift and is put back',
  async (t) => {
    const { ip, clock, sync } = await started();
    sync.update(K, NH);
    await settleSync(clock, sync);
    const drifts: DriftEntry[][] = [];
    sync.on('drift', (d) => drifts.push(d));
    ip.external(ours('10.244.5.192/26', '192.168.26.9', 'ens32'));
    await settleSync(clock, sync, 100);
    t.equal(ip.get('10.244.5.192/26')?.nexthops[0].via, '192.168.30.72', 'put back');
    t.equal(drifts.length, 1);
    t.equal(drifts[0][0].found, '10.244.5.192/26 via 192.168.26.9 dev ens32 proto bgp');
    t.equal(drifts[0][0].expected, '10.244.5.192/26 via 192.168.30.72 dev ens33 proto bgp');
    await sync.stop();
  },
);

t.test(
  'without a monitor, the periodic read finds and repairs drift of numeric entries',
  async (t) => {
    const { ip, clock, sync } = await started({ monitor: false, resyncIntervalMs: 60_000 });
    sync.update(K, NH);
    await settleSync(clock, sync);
    ip.routes.clear(); // gone without an event
    await settleSync(clock, sync, 60_000);
    t.equal(ip.get('10.244.5.192/26')?.nexthops[0].via, '192.168.30.72');
    await sync.stop();
  },
);

t.test('a restart adopts numeric-key routes and sends nothing for the same input', async (t) => {
  const { ip, clock, sync } = await started();
  for (let i = 0; i < 50; i++) sync.update(v4PrefixKey(0x0af40000 + i * 64, 26), NH);
  await settleSync(clock, sync);
  await sync.stop();
  const batches = ip.batches.length;
  const again = new KernelSync({
    runner: ip,
    clock,
    logger: pino({ level: 'silent' }),
    pools: [{ cidr: '10.244.0.0/16', ipipMode: 'Never' }],
  });
  for (let i = 0; i < 50; i++) again.update(v4PrefixKey(0x0af40000 + i * 64, 26), NH);
  await again.start();
  again.markConverged();
  await settleSync(clock, again);
  t.equal(ip.batches.length, batches, 'no batch: the kernel already holds every route');
  t.equal(again.status().counts.installed, 50);
  // Key 49: 49 * 64 = 3136 = 12 * 256 + 64.
  t.equal(formatV4PrefixKey(v4PrefixKey(0x0af40000 + 49 * 64, 26)), '10.244.12.64/26');
  t.equal(again.routeStatus('10.244.12.64/26')?.origin, 'remote');
  await again.stop();
});

t.test('a full withdrawal by number empties the kernel and the state', async (t) => {
  const { ip, clock, sync } = await started();
  const n = 5000;
  const key = (i: number) => v4PrefixKey((10 * 256 + 100) * 65536 + i * 64, 26);
  for (let i = 0; i < n; i++) sync.update(key(i), NH);
  await settleSync(clock, sync);
  t.equal(ip.routes.size, n);
  for (let i = 0; i < n; i++) sync.update(key(i), null);
  await settleSync(clock, sync);
  t.equal(ip.routes.size, 0, 'all deleted');
  t.equal(sync.status().routes.length, 0, 'nothing left');
  // The slots are reused: add again and withdraw half, then the rest by text.
  for (let i = 0; i < 10; i++) sync.update(key(i), NH);
  await settleSync(clock, sync);
  t.equal(ip.routes.size, 10);
  for (let i = 0; i < 10; i++) sync.update(formatV4PrefixKey(key(i)), null);
  await settleSync(clock, sync);
  t.equal(ip.routes.size, 0);
  await sync.stop();
});

t.test(
  'a large install over several passes keeps the monitor paused and verifies once',
  async (t) => {
    const { ip, clock, sync } = await started({ monitorPauseOps: 3 });
    const monitors = () => ip.calls.filter((c) => c.args[0] === 'monitor').length;
    const reads = () =>
      ip.calls.filter((c) => c.args.join(' ') === '-json route show table main proto bgp').length;
    const m0 = monitors();
    const r0 = reads();
    const key = (i: number) => v4PrefixKey((10 * 256 + 50) * 65536 + i * 256, 24);
    // More changes arrive while each pass is applied (from its reconcile event): three passes.
    let pass = 0;
    sync.on('reconcile', () => {
      pass++;
      if (pass < 3) for (let i = 0; i < 5; i++) sync.update(key(pass * 5 + i), NH);
    });
    for (let i = 0; i < 5; i++) sync.update(key(i), NH);
    await settleSync(clock, sync);
    t.equal(pass, 3, 'three passes');
    t.equal(ip.routes.size, 15);
    t.equal(monitors(), m0 + 1, 'the monitor restarted once, after the last pass');
    t.equal(ip.monitorCount, 1, 'and it is running');
    await settleSync(clock, sync, 5000);
    t.equal(reads(), r0 + 1, 'one verification read at the end');
    await sync.stop();
  },
);

t.test('after most prefixes go, the rest keep their state (entries are compacted)', async (t) => {
  const { ip, clock, sync } = await started();
  const n = 6000;
  const key = (i: number) => v4PrefixKey((10 * 256 + 60) * 65536 + i * 64, 26);
  for (let i = 0; i < n; i++) sync.update(key(i), NH);
  sync.setOwnBlocks(['10.244.118.192/26']);
  await settleSync(clock, sync);
  t.equal(ip.routes.size, n + 1);
  // Withdraw all but every tenth.
  for (let i = 0; i < n; i++) if (i % 10 !== 0) sync.update(key(i), null);
  await settleSync(clock, sync);
  t.equal(ip.routes.size, n / 10 + 1);
  let installed = 0;
  for (let i = 0; i < n; i += 10)
    if (sync.routeStatus(formatV4PrefixKey(key(i)))?.installed) installed++;
  t.equal(installed, n / 10, 'every kept prefix still known as installed');
  t.equal(sync.routeStatus(formatV4PrefixKey(key(1))), null, 'a withdrawn one is gone');
  t.equal(sync.routeStatus('10.244.118.192/26')?.origin, 'own');
  // Drift on a kept prefix is still seen and healed.
  ip.external(ours(formatV4PrefixKey(key(50)), '192.168.30.72', 'ens33'), 'del');
  // (The big withdrawal ran with the monitor paused: its verification read is due in 5 s.)
  await settleSync(clock, sync, 5000);
  t.ok(ip.get(formatV4PrefixKey(key(50))), 'healed');
  // And the rest can be withdrawn.
  for (let i = 0; i < n; i += 10) sync.update(key(i), null);
  await settleSync(clock, sync);
  t.equal(ip.routes.size, 1, 'only the own block left');
  await sync.stop();
});
