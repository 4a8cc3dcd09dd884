// Environment overrides with Calico's variable names: each one, precedence over the file,
// empty values ignored, and errors that name the variable.
import t from 'tap';
import { parseConfig, type LoadResult } from '../../src/config/load.js';
import { applyEnv } from '../../src/config/env.js';

const ok = (r: LoadResult) => {
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
};

const FILE = `node:
  name: from-file
  asn: 65000
  ipv4: {address: 10.0.0.1/24, autodetectionMethod: first-found}
pools:
  - {cidr: "fd00:10:244::/56"}
  - {cidr: 10.244.0.0/16, blockSize: 26, ipipMode: Always}
`;

t.test('a calico-node environment moves across unchanged', async (t) => {
  const c = ok(
    parseConfig(FILE, {
      NODENAME: 'vms71',
      IP: 'autodetect',
      IP_AUTODETECTION_METHOD: 'interface=ens33,eth0',
      IP6: 'autodetect',
      IP6_AUTODETECTION_METHOD: 'cidr=2001:db8:30::/64',
      AS: '64513',
      CALICO_IPV4POOL_CIDR: '10.96.0.0/12',
      CALICO_IPV4POOL_IPIP: 'CrossSubnet',
      CALICO_IPV4POOL_BLOCK_SIZE: '28',
      LOG_LEVEL: 'DEBUG',
    }),
  );
  t.equal(c.node.name, 'vms71');
  t.same(c.node.ipv4, { address: 'autodetect', autodetectionMethod: 'interface=ens33,eth0' });
  t.same(c.node.ipv6, { address: 'autodetect', autodetectionMethod: 'cidr=2001:db8:30::/64' });
  t.equal(c.node.asn, 64513);
  t.equal(c.pools.length, 2, 'the IPv4 pool is replaced in place, the IPv6 pool kept');
  t.same(c.pools[1], { cidr: '10.96.0.0/12', family: 4, blockSize: 28, ipipMode: 'CrossSubnet' });
  t.equal(c.pools[0].cidr, 'fd00:10:244::/56');
  t.equal(c.logLevel, 'debug');
});

t.test('unset and empty variables leave the file alone', async (t) => {
  const c = ok(parseConfig(FILE, { NODENAME: '', IP: '  ', AS: undefined }));
  t.equal(c.node.name, 'from-file');
  t.equal(c.node.ipv4.address, '10.0.0.1/24');
  t.equal(c.node.asn, 65000);
});

t.test('IP takes an address, an address with length, autodetect or none', async (t) => {
  t.equal(ok(parseConfig('', { IP: '192.168.30.71' })).node.ipv4.address, '192.168.30.71');
  t.equal(ok(parseConfig('', { IP: '192.168.30.71/24' })).node.ipv4.address, '192.168.30.71/24');
  t.equal(ok(parseConfig('', { IP: 'AUTODETECT' })).node.ipv4.address, 'autodetect');
  t.equal(
    ok(parseConfig('node: {routerId: 1.1.1.1}', { IP: 'none', IP6: 'autodetect' })).node.ipv4
      .address,
    'none',
  );
});

t.test('CALICO_IPV4POOL_* without a pool in the file', async (t) => {
  const c = ok(
    parseConfig('', { CALICO_IPV4POOL_CIDR: '192.168.0.0/16', CALICO_IPV4POOL_IPIP: 'off' }),
  );
  t.same(
    c.pools,
    [{ cidr: '192.168.0.0/16', family: 4, blockSize: 26, ipipMode: 'Never' }],
    '"off" is the old spelling of Never',
  );
  const r = parseConfig('', { CALICO_IPV4POOL_IPIP: 'Always' });
  t.notOk(r.ok);
  if (!r.ok) t.match(r.errors[0].message, /no IPv4 pool/);
});

t.test('bad values name their variable', async (t) => {
  const r = parseConfig(FILE, {
    AS: 'sixty',
    IP: '300.1.1.1',
    IP_AUTODETECTION_METHOD: 'nearest',
    CALICO_IPV4POOL_CIDR: '10.96.0.1/12',
    NODENAME: 'UPPER',
  });
  t.notOk(r.ok);
  if (r.ok) return;
  const by = (p: string) => r.errors.find((e) => e.path === p);
  t.equal(by('node.asn')?.source, 'environment AS');
  t.same(by('node.asn')?.value, 'sixty');
  t.equal(by('node.ipv4.address')?.source, 'environment IP');
  t.equal(by('node.ipv4.autodetectionMethod')?.source, 'environment IP_AUTODETECTION_METHOD');
  t.equal(by('pools[1].cidr')?.source, 'environment CALICO_IPV4POOL_CIDR');
  t.match(by('pools[1].cidr')?.message, /host bits/);
  t.equal(by('node.name')?.source, 'environment NODENAME');
});

t.test('applyEnv does not modify its input', async (t) => {
  const input = { node: { asn: 1 } };
  applyEnv(input, { AS: '2', NODENAME: 'x' });
  t.same(input, { node: { asn: 1 } });
});
