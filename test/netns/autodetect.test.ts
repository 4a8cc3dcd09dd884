// Autodetection against the real kernel: the nodes vms71 and vms72 built from two
// network namespaces joined by veth pairs renamed to ens32/ens33 and eth1/eth0, checked with
// every method, both families, the keepalived /32 VIP, and can-reach through a real UDP connect.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { autodetectAddress, type AutodetectDeps } from '../../src/node/autodetect.js';
import {
  execFileRunner,
  ipAddrSource,
  ipRouteGetReachSource,
  parseIpAddrJson,
} from '../../src/node/interfaces.js';
import { parseAutodetectMethod } from '../../src/node/methods.js';

const NS71 = 'pbn-vms71';
const NS72 = 'pbn-vms72';
const HOSTS_DIR = `/etc/netns/${NS71}`;

function sh(...args: string[]): string {
  return execFileSync(args[0], args.slice(1), {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function prerequisite(): string | false {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  try {
    sh('ip', '-V');
  } catch {
    return 'iproute2 (the ip command) is not installed';
  }
  return false;
}

function cleanup(): void {
  for (const ns of [NS71, NS72]) {
    try {
      sh('ip', 'netns', 'del', ns);
    } catch {
      // not there
    }
  }
  rmSync(HOSTS_DIR, { recursive: true, force: true });
}

// Each node: interface -> addresses, in the order they are added. On vms71 the VIP is added
// before the primary so that the kernel lists it first, as after a DHCP renewal (Calico #5094).
const NODES: Record<string, Record<string, string[]>> = {
  [NS71]: {
    ens32: ['192.168.26.71/24', '2001:db8:26::71/64'],
    ens33: ['192.168.30.100/32', '192.168.30.71/24', '2001:db8:30::71/64'],
  },
  [NS72]: {
    eth1: ['192.168.26.72/24', '2001:db8:26::72/64'],
    eth0: ['192.168.30.72/24', '2001:db8:30::72/64'],
  },
};

function build(): void {
  cleanup();
  sh('ip', 'netns', 'add', NS71);
  sh('ip', 'netns', 'add', NS72);
  // Segment 192.168.26.0/24: vms71 ens32 <-> vms72 eth1; segment 192.168.30.0/24: ens33 <-> eth0.
  for (const [a, b, name71, name72] of [
    ['pbn-a71', 'pbn-a72', 'ens32', 'eth1'],
    ['pbn-b71', 'pbn-b72', 'ens33', 'eth0'],
  ]) {
    sh('ip', 'link', 'add', a, 'netns', NS71, 'type', 'veth', 'peer', 'name', b, 'netns', NS72);
    sh('ip', '-n', NS71, 'link', 'set', a, 'name', name71);
    sh('ip', '-n', NS72, 'link', 'set', b, 'name', name72);
  }
  for (const [ns, ifaces] of Object.entries(NODES)) {
    sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    for (const [dev, addrs] of Object.entries(ifaces)) {
      for (const a of addrs)
        sh('ip', '-n', ns, 'addr', 'add', a, 'dev', dev, ...(a.includes(':') ? ['nodad'] : []));
      sh('ip', '-n', ns, 'link', 'set', dev, 'up');
    }
  }
  // `ip netns exec` bind-mounts /etc/netns/NS/hosts over /etc/hosts: a name to resolve.
  mkdirSync(HOSTS_DIR, { recursive: true });
  writeFileSync(
    `${HOSTS_DIR}/hosts`,
    '127.0.0.1 localhost\n192.168.30.1 tor.pbn.test\n2001:db8:30::1 tor.pbn.test\n',
  );
}

const deps = (ns: string): AutodetectDeps => ({
  interfaces: ipAddrSource(execFileRunner, { netns: ns }),
  reach: ipRouteGetReachSource(execFileRunner, { netns: ns }),
  kubernetesInternalIps: async () =>
    ns === NS71 ? ['192.168.30.71', '2001:db8:30::71'] : ['192.168.30.72', '2001:db8:30::72'],
});

async function detect(ns: string, method: string, family: 4 | 6) {
  const m = parseAutodetectMethod(method, family);
  if (!m.ok) throw new Error(m.error);
  return autodetectAddress(m.method, family, deps(ns));
}

/** What the fixture put on an interface: its first address of the family that is not a /32. */
const expected = (ns: string, dev: string, family: 4 | 6): string =>
  NODES[ns][dev].find((a) => (family === 4) === !a.includes(':') && !a.endsWith('/32'))!;

const skip = prerequisite();
t.test('autodetection in network namespaces', { skip }, async (t) => {
  t.teardown(cleanup);
  build();

  t.test('precondition: the kernel lists the VIP before the primary on vms71 ens33', async (t) => {
    const list = parseIpAddrJson(sh('ip', '-n', NS71, '-json', 'addr', 'show', 'dev', 'ens33'));
    const v4 = list[0].addresses
      .filter((a) => a.family === 4)
      .map((a) => `${a.address}/${a.prefixLength}`);
    t.same(v4, ['192.168.30.100/32', '192.168.30.71/24']);
  });

  // The table, then the same methods for IPv6.
  const table: [string, string, string, 4 | 6][] = [
    ['interface=ens33,eth0', 'ens33', 'eth0', 4],
    ['interface=ens32,eth1', 'ens32', 'eth1', 4],
    ['skip-interface=eth1,ens32', 'ens33', 'eth0', 4],
    ['can-reach=192.168.30.1', 'ens33', 'eth0', 4],
    ['cidr=192.168.26.0/24', 'ens32', 'eth1', 4],
    ['kubernetes-internal-ip', 'ens33', 'eth0', 4],
    ['interface=ens33,eth0', 'ens33', 'eth0', 6],
    ['interface=ens32,eth1', 'ens32', 'eth1', 6],
    ['skip-interface=eth1,ens32', 'ens33', 'eth0', 6],
    ['can-reach=2001:db8:30::1', 'ens33', 'eth0', 6],
    ['cidr=2001:db8:26::/64', 'ens32', 'eth1', 6],
    ['kubernetes-internal-ip', 'ens33', 'eth0', 6],
  ];
  t.test('every method, both nodes, both families', async (t) => {
    for (const [method, on71, on72, family] of table) {
      for (const [ns, dev] of [
        [NS71, on71],
        [NS72, on72],
      ]) {
        const r = await detect(ns, method, family);
        t.ok(r.ok, `${ns} IPv${family} ${method}: ${r.decision.summary}`);
        if (!r.ok) continue;
        t.equal(r.address.interface, dev, `${ns} IPv${family} ${method} -> ${dev}`);
        t.equal(r.address.cidr, expected(ns, dev, family), `${ns} IPv${family} ${method} address`);
      }
    }
  });

  t.test('first-found: the first non-loopback interface in kernel order', async (t) => {
    for (const ns of [NS71, NS72]) {
      const links = JSON.parse(sh('ip', '-n', ns, '-json', 'link', 'show')) as { ifname: string }[];
      const first = links.map((l) => l.ifname).find((n) => n !== 'lo')!;
      for (const family of [4, 6] as const) {
        const r = await detect(ns, 'first-found', family);
        t.ok(r.ok && r.address.interface === first, `${ns} IPv${family} -> ${first}`);
        if (r.ok) t.equal(r.address.cidr, expected(ns, first, family));
        t.match(
          r.decision.candidates.find((c) => c.interface === 'lo')?.reason,
          /excluded by \^lo/,
        );
      }
    }
  });

  t.test('the VIP never wins on vms71 ens33', async (t) => {
    for (const method of ['interface=ens33', 'cidr=192.168.30.0/24', 'skip-interface=ens32']) {
      const r = await detect(NS71, method, 4);
      t.ok(r.ok && r.address.cidr === '192.168.30.71/24', method);
      t.match(r.decision.candidates.find((c) => c.address === '192.168.30.100/32')?.reason, /VIP/);
    }
  });

  t.test('can-reach inside the namespace: real UDP connect and real name resolution', async (t) => {
    const mod = fileURLToPath(new URL('../../src/node/index.ts', import.meta.url));
    // With -e, process.argv holds the node binary and then the arguments.
    const script = `import * as n from ${JSON.stringify(mod)};
const [method, fam] = [process.argv[1], Number(process.argv[2])];
const m = n.parseAutodetectMethod(method, fam);
const r = await n.autodetectAddress(m.method, fam, { interfaces: n.ipAddrSource(n.execFileRunner), reach: n.udpReachSource, resolve: n.dnsResolver });
process.stdout.write(JSON.stringify(r));`;
    for (const [method, family] of [
      ['can-reach=192.168.30.1', 4],
      ['can-reach=tor.pbn.test', 4],
      ['can-reach=tor.pbn.test', 6],
    ] as const) {
      const child = spawnSync(
        'ip',
        [
          'netns',
          'exec',
          NS71,
          process.execPath,
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          script,
          method,
          String(family),
        ],
        { encoding: 'utf8', timeout: 60_000 },
      );
      t.equal(child.status, 0, child.stderr);
      const r = JSON.parse(child.stdout || '{}') as {
        ok?: boolean;
        address?: { cidr: string; interface: string };
      };
      t.equal(r.address?.interface, 'ens33', `${method} IPv${family}`);
      t.equal(r.address?.cidr, expected(NS71, 'ens33', family));
    }
  });
});
