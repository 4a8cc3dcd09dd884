// Smoke tests of the interop test library: each launcher starts a real daemon in a namespace,
// two daemons peer and reach Established as their own CLIs report, and cleanup removes
// everything. Also checks the capture path (tcpdump -> pcap -> BGP split) on a real session.
import t from 'tap';
import {
  Cleanup,
  attachToBridge,
  createBridge,
  createVeth,
  isRoot,
  makeNode,
  uniqueName,
  birdPeerConfig,
  exabgpAttribute,
  exabgpNeighbor,
  frrPeerConfig,
  gobgpPeerConfig,
  missingReason,
  openbgpdPeerConfig,
  pair,
  run,
  splitBgp,
  startBird,
  startExabgp,
  startFrr,
  startGobgp,
  startOpenbgpd,
  startTcpdump,
  versionOf,
  waitFor,
  type DaemonName,
} from './lib/index.js';

async function skipReason(...daemons: DaemonName[]): Promise<string | false> {
  const reasons = (await Promise.all(daemons.map((d) => missingReason(d)))).filter(Boolean);
  return reasons.length > 0 ? reasons.join('; ') : false;
}

const tcpdumpMissing =
  (await run('sh', ['-c', 'command -v tcpdump'])).code !== 0
    ? 'tcpdump not installed (Debian package tcpdump)'
    : false;
const skipBirdFrr = (await skipReason('bird', 'frr')) || tcpdumpMissing;
const skipGobgpOpenbgpd = await skipReason('gobgp', 'openbgpd');
const skipExabgpBird = await skipReason('exabgp', 'bird');

async function namespaces(): Promise<string[]> {
  const out = await run('ip', ['netns', 'list']);
  return out.stdout.split('\n').map((l) => l.split(' ')[0]);
}

t.test('splitBgp cuts back-to-back messages and rejects a bad marker', async (t) => {
  const marker = Buffer.alloc(16, 0xff);
  // RFC 4271 §4.4: a KEEPALIVE is the 19-byte header alone, type 4.
  const keepalive = Buffer.concat([marker, Buffer.from([0, 19, 4])]);
  // RFC 4271 §4.5: NOTIFICATION Cease (6) / Administrative Shutdown (2).
  const notification = Buffer.concat([marker, Buffer.from([0, 21, 3, 6, 2])]);
  const stream = Buffer.concat([keepalive, notification, keepalive.subarray(0, 10)]);
  const { messages, rest } = splitBgp(stream);
  t.same(
    messages.map((m) => m.type),
    [4, 3],
  );
  t.equal(messages[1].bytes.length, 21);
  t.equal(rest.length, 10, 'a partial trailing message is left over');
  const bad = Buffer.from(keepalive);
  bad[3] = 0;
  t.throws(() => splitBgp(bad), /bad marker/);
});

const busyboxMissing =
  (await run('sh', ['-c', 'command -v busybox'])).code !== 0
    ? 'busybox not installed (Debian package busybox-static)'
    : false;

t.test(
  'a bridge joins three namespaces on one segment',
  { skip: isRoot() ? busyboxMissing : 'needs root' },
  async (t) => {
    const cleanup = new Cleanup();
    t.teardown(() => cleanup.run());
    const sw = await makeNode(cleanup, 'pibs');
    const br = uniqueName('pibr');
    await createBridge(cleanup, sw, br);
    const hosts: { ns: string; v4: string; v6: string }[] = [];
    for (let i = 1; i <= 3; i++) {
      const ns = await makeNode(cleanup, 'pibh');
      const v4 = `198.51.100.${i}`;
      const v6 = `2001:db8:b::${i}`;
      const port = uniqueName('pibp');
      await createVeth(
        cleanup,
        { ns, name: uniqueName('pibh'), addresses: [`${v4}/24`, `${v6}/64`] },
        { ns: sw, name: port },
      );
      await attachToBridge(sw, port, br);
      hosts.push({ ns, v4, v6 });
    }
    for (const target of hosts.slice(1)) {
      for (const addr of [target.v4, target.v6]) {
        const args = ['ping', ...(addr.includes(':') ? ['-6'] : []), '-c', '1', '-W', '5', addr];
        const res = await run('busybox', args, { ns: hosts[0].ns });
        t.equal(res.code, 0, `ping ${addr} across the bridge`);
      }
    }
    const errors = await cleanup.run();
    t.same(errors, [], 'cleanup ran without errors');
    const left = await namespaces();
    t.notOk(
      [sw, ...hosts.map((h) => h.ns)].some((n) => left.includes(n)),
      'namespaces removed',
    );
  },
);

t.test(
  'BIRD and FRR peer, exchange a route, and are captured on the wire',
  { skip: skipBirdFrr },
  async (t) => {
    const cleanup = new Cleanup();
    t.teardown(() => cleanup.run());
    const link = await pair(cleanup, 'pil');
    const cap = await startTcpdump(cleanup, link.a.ns, link.a.dev);
    const bird = await startBird(cleanup, {
      ns: link.a.ns,
      config: birdPeerConfig({
        routerId: '192.0.2.1',
        asn: 4200000001,
        neighbors: [{ name: 'frr', address: link.b.v4, asn: 4200000002 }],
        announce: ['10.101.0.0/24'],
      }),
    });
    const frr = await startFrr(cleanup, {
      ns: link.b.ns,
      config: frrPeerConfig({
        routerId: '192.0.2.2',
        asn: 4200000002,
        neighbors: [{ address: link.a.v4, asn: 4200000001, options: ['advertisement-interval 0'] }],
        announce: ['10.102.0.0/24'],
      }),
    });
    await bird.waitEstablished('frr');
    await frr.waitEstablished(link.a.v4);
    t.equal(await bird.bgpState('frr'), 'Established', 'birdc reports Established');
    const n = await frr.neighbor(link.a.v4);
    t.equal(n?.bgpState, 'Established', 'vtysh JSON reports Established');
    t.equal(n?.remoteAs, 4200000001, 'FRR sees the configured 4-octet peer AS');
    const route = await waitFor(
      async () => {
        const rib = await frr.json<{ routes?: Record<string, { path?: string }[]> }>(
          'show bgp ipv4 unicast json',
        );
        return rib.routes?.['10.101.0.0/24']?.[0];
      },
      { timeoutMs: 30_000, what: 'BIRD route at FRR' },
    );
    t.equal(route.path, '4200000001', 'FRR learned the BIRD prefix with AS path 4200000001');
    await waitFor(
      async () => (await bird.cli('show route 10.102.0.0/24')).includes('10.102.0.0/24'),
      {
        timeoutMs: 30_000,
        what: 'FRR route at BIRD',
      },
    );
    t.match(await bird.version(), /^2\./);
    t.match(await versionOf('frr'), /^\d+\.\d+/);

    const flows = await cap.stop();
    const fromBird = flows.find((f) => f.src === link.a.v4);
    const fromFrr = flows.find((f) => f.src === link.b.v4);
    t.ok(fromBird && fromFrr, 'both directions captured');
    const openOf = (f: typeof fromBird) => f?.messages.find((m) => m.type === 1)?.bytes;
    // RFC 4271 §4.2: My Autonomous System at offset 20; RFC 6793 §9: AS_TRANS for 4-octet ASNs.
    t.equal(openOf(fromBird)?.readUInt16BE(20), 23456, 'BIRD OPEN carries AS_TRANS in My AS');
    t.equal(openOf(fromFrr)?.readUInt16BE(20), 23456, 'FRR OPEN carries AS_TRANS in My AS');
    t.equal(openOf(fromBird)?.readUInt16BE(22), 90, 'BIRD OPEN carries the configured hold time');

    const nsNames = [link.a.ns, link.b.ns];
    const errors = await cleanup.run();
    t.same(errors, [], 'cleanup ran without errors');
    const left = await namespaces();
    t.notOk(
      nsNames.some((n) => left.includes(n)),
      'namespaces removed',
    );
    t.notOk(bird.process.isRunning() || frr.process.isRunning(), 'daemons stopped');
  },
);

t.test('GoBGP and OpenBGPD peer', { skip: skipGobgpOpenbgpd }, async (t) => {
  const cleanup = new Cleanup();
  t.teardown(() => cleanup.run());
  const link = await pair(cleanup, 'pig');
  const gobgp = await startGobgp(cleanup, {
    ns: link.a.ns,
    config: gobgpPeerConfig({
      routerId: '192.0.2.11',
      asn: 65011,
      neighbors: [{ address: link.b.v4, asn: 65012 }],
    }),
  });
  const obgpd = await startOpenbgpd(cleanup, {
    ns: link.b.ns,
    config: openbgpdPeerConfig({
      routerId: '192.0.2.12',
      asn: 65012,
      neighbors: [{ address: link.a.v4, asn: 65011 }],
      announce: ['10.112.0.0/24'],
    }),
  });
  await gobgp.waitEstablished(link.b.v4);
  await obgpd.waitEstablished(link.a.v4);
  t.equal(await obgpd.state(link.a.v4), 'Established', 'bgpctl -j reports Established');
  t.ok(await gobgp.isEstablished(link.b.v4), 'gobgp neighbor -j reports Established');
  const rib = await waitFor(
    async () => {
      const r = await gobgp.json<Record<string, unknown[]>>(['global', 'rib', '-a', 'ipv4']);
      return r['10.112.0.0/24'];
    },
    { timeoutMs: 30_000, what: 'OpenBGPD route at GoBGP' },
  );
  t.equal(rib.length, 1, 'GoBGP learned the OpenBGPD prefix');
});

t.test(
  'ExaBGP and BIRD peer, and ExaBGP reports what BIRD sends',
  { skip: skipExabgpBird },
  async (t) => {
    const cleanup = new Cleanup();
    t.teardown(() => cleanup.run());
    const link = await pair(cleanup, 'pie');
    const bird = await startBird(cleanup, {
      ns: link.b.ns,
      config: birdPeerConfig({
        routerId: '192.0.2.22',
        asn: 65022,
        neighbors: [{ name: 'exa', address: link.a.v4, asn: 65021 }],
        announce: ['10.122.0.0/24'],
      }),
    });
    const exa = await startExabgp(cleanup, {
      ns: link.a.ns,
      config: exabgpNeighbor({
        address: link.b.v4,
        localAddress: link.a.v4,
        routerId: '192.0.2.21',
        asn: 65021,
        peerAsn: 65022,
        families: ['ipv4 unicast'],
        routes: ['route 10.121.0.0/24 next-hop self community [ 65021:7 ];'],
      }),
    });
    await exa.waitEstablished(link.b.v4);
    await bird.waitEstablished('exa');
    const update = await exa.waitEvent(
      (e) => e.type === 'update' && JSON.stringify(e).includes('10.122.0.0/24'),
      30_000,
      'BIRD UPDATE reported by ExaBGP',
    );
    t.ok(update, 'ExaBGP API reported the BIRD prefix');
    await waitFor(
      async () => (await bird.cli('show route 10.121.0.0/24 all')).includes('(65021,7)'),
      {
        timeoutMs: 30_000,
        what: 'ExaBGP route with its community at BIRD',
      },
    );
    t.pass('BIRD shows the ExaBGP route with community (65021,7)');
    // An API command: withdraw and see BIRD drop the route.
    await exa.send(`neighbor ${link.b.v4} withdraw route 10.121.0.0/24 next-hop self`);
    // `show route PREFIX` exits 1 once the network is gone, so list the whole table instead.
    await waitFor(async () => !(await bird.cli('show route')).includes('10.121.0.0/24'), {
      timeoutMs: 30_000,
      what: 'withdrawal at BIRD',
    });
    t.pass('an API withdraw reached BIRD');
    // A raw attribute replacing ORIGIN with the invalid value 7: RFC 7606 §7.1 says treat-as-withdraw,
    // so BIRD keeps the session and does not install the route.
    await exa.send(
      `neighbor ${link.b.v4} announce route 10.121.9.0/24 next-hop self ${exabgpAttribute(1, 0x40, '07')}`,
    );
    await exa.send(`neighbor ${link.b.v4} announce route 10.121.8.0/24 next-hop self`);
    await waitFor(async () => (await bird.cli('show route')).includes('10.121.8.0/24'), {
      timeoutMs: 30_000,
      what: 'the well-formed route sent after the malformed one',
    });
    t.notMatch(
      await bird.cli('show route'),
      /10\.121\.9\.0\/24/,
      'the route with ORIGIN 7 was not installed',
    );
    t.equal(
      await bird.bgpState('exa'),
      'Established',
      'the session survived the malformed attribute',
    );
  },
);
