// Parsing `ip -json addr show` and the command-line shape of the real sources.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import {
  execFileRunner,
  ipAddrSource,
  ipRouteGetReachSource,
  parseIpAddrJson,
  udpReachSource,
} from '../../src/node/interfaces.js';

// The shape iproute2 6.x prints (trimmed): a VIP, a secondary, an IPv6 address in DAD.
const SAMPLE = JSON.stringify([
  {
    ifindex: 3,
    ifname: 'ens33',
    flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
    addr_info: [
      { family: 'inet', local: '192.168.30.100', prefixlen: 32, scope: 'global', label: 'ens33' },
      {
        family: 'inet',
        local: '192.168.30.71',
        prefixlen: 24,
        broadcast: '192.168.30.255',
        scope: 'global',
        label: 'ens33',
      },
      {
        family: 'inet',
        local: '192.168.30.72',
        prefixlen: 24,
        scope: 'global',
        secondary: true,
        label: 'ens33',
      },
      {
        family: 'inet6',
        local: '2001:DB8:30::71',
        prefixlen: 64,
        scope: 'global',
        tentative: true,
      },
      { family: 'inet6', local: 'fe80::1', prefixlen: 64, scope: 'link' },
    ],
  },
  {
    ifindex: 1,
    ifname: 'lo',
    flags: ['LOOPBACK', 'UP', 'LOWER_UP'],
    addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host' }],
  },
  { ifindex: 2, ifname: 'ens32', flags: ['BROADCAST', 'MULTICAST'], addr_info: [] },
  { ifindex: 4, link_index: 9 },
]);

t.test('parseIpAddrJson keeps kernel order, flags and canonical text', async (t) => {
  const list = parseIpAddrJson(SAMPLE);
  t.same(
    list.map((i) => i.name),
    ['lo', 'ens32', 'ens33'],
    'sorted by ifindex, nameless entries dropped',
  );
  t.equal(list[1].up, false, 'no UP flag: down');
  const ens33 = list[2];
  t.same(
    ens33.addresses.map((a) => `${a.address}/${a.prefixLength}`),
    [
      '192.168.30.100/32',
      '192.168.30.71/24',
      '192.168.30.72/24',
      '2001:db8:30::71/64',
      'fe80::1/64',
    ],
  );
  t.equal(ens33.addresses[2].secondary, true);
  t.equal(ens33.addresses[3].tentative, true);
  t.equal(ens33.addresses[3].family, 6);
  t.equal(ens33.addresses[4].scope, 'link');
  t.throws(() => parseIpAddrJson('{}'));
});

t.test('ipAddrSource and ipRouteGetReachSource pass -n NETNS to ip', async (t) => {
  const calls: string[] = [];
  const run = async (file: string, args: string[]): Promise<string> => {
    calls.push([file, ...args].join(' '));
    return args.includes('route')
      ? '[{"dst":"192.168.30.1","dev":"ens33","prefsrc":"192.168.30.71"}]'
      : SAMPLE;
  };
  t.equal((await ipAddrSource(run, { netns: 'pbn-x' })()).length, 3);
  t.equal(await ipRouteGetReachSource(run, { netns: 'pbn-x' })('192.168.30.1', 4), '192.168.30.71');
  t.same(calls, ['ip -n pbn-x -json addr show', 'ip -n pbn-x -4 -json route get 192.168.30.1']);
  await ipAddrSource(run)();
  t.equal(calls[2], 'ip -json addr show', 'no netns: the current namespace');
});

let hasIp = true;
try {
  execFileSync('ip', ['-V']);
} catch {
  hasIp = false;
}

t.test(
  'the real sources work on this host',
  { skip: hasIp ? false : 'iproute2 (the ip command) is not installed' },
  async (t) => {
    const list = await ipAddrSource(execFileRunner)();
    const lo = list.find((i) => i.name === 'lo');
    t.ok(lo, 'lo is listed');
    t.ok(
      lo?.addresses.some((a) => a.address === '127.0.0.1' && a.prefixLength === 8),
      'lo has 127.0.0.1/8',
    );
    // Loopback destinations are always routable: the kernel picks 127.0.0.1 itself.
    t.equal(await udpReachSource('127.0.0.1', 4), '127.0.0.1');
  },
);
