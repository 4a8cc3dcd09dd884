// Config validation: defaults, every error class from the issue, all errors at once, each with
// path, value, what is allowed and its line; unknown keys reported as typos.
import t from 'tap';
import { parseConfig, type LoadResult } from '../../src/config/load.js';
import { formatConfigErrors, type ConfigError } from '../../src/config/errors.js';
import {
  DEFAULT_ASN,
  DEFAULT_METRICS_LISTEN,
  DEFAULT_SOCKET,
  MAX_ASN,
} from '../../src/config/schema.js';

function errorsOf(r: LoadResult): ConfigError[] {
  if (r.ok) throw new Error('expected errors');
  return r.errors;
}
const find = (errs: ConfigError[], path: string) => errs.find((e) => e.path === path);

t.test('an empty file is fully defaulted', async (t) => {
  const r = parseConfig('', {});
  t.ok(r.ok);
  if (!r.ok) return;
  const c = r.config;
  t.equal(c.node.asn, DEFAULT_ASN);
  t.equal(c.node.name, null);
  t.same(c.node.ipv4, { address: 'autodetect', autodetectionMethod: 'first-found' });
  t.same(
    c.node.ipv6,
    { address: 'none', autodetectionMethod: 'first-found' },
    'IPv6 off, as Calico IP6',
  );
  t.equal(c.listen.port, 179);
  t.equal(c.control.socket, DEFAULT_SOCKET);
  t.equal(c.control.socket, '/run/podbgp/podbgp.sock');
  t.equal(c.metrics.listen, DEFAULT_METRICS_LISTEN);
  t.same([c.metrics.host, c.metrics.port], ['127.0.0.1', 9179]);
  t.same(c.rib, { multipathMax: 8, alwaysCompareMed: false, clusterId: null });
  t.same(
    c.kernel,
    { table: 254, protocol: 186, flushOnExit: false, tunnelMtu: null },
    'main table, proto bgp (186)',
  );
  t.same(c.kubernetes, { enabled: true, kubeconfig: null, mesh: true });
  t.equal(c.logLevel, 'info');
  t.match(r.warnings.join('\n'), /no pools/);
});

t.test('peer and pool defaults', async (t) => {
  const r = parseConfig(
    `pools: [{cidr: 10.244.0.0/16}, {cidr: "fd00:10:244::/56"}]
peers:
  - {address: 192.168.30.1, asn: 65001, holdTime: 9, maxPrefixes: 100}
  - {address: "2001:DB8::1", asn: 65001}`,
    {},
  );
  t.ok(r.ok);
  if (!r.ok) return;
  t.same(r.config.pools[0], {
    cidr: '10.244.0.0/16',
    family: 4,
    blockSize: 26,
    ipipMode: 'Always',
  });
  t.same(r.config.pools[1], {
    cidr: 'fd00:10:244::/56',
    family: 6,
    blockSize: 122,
    ipipMode: 'Never',
  });
  const [p4, p6] = r.config.peers;
  t.equal(p4.keepaliveTime, 3, 'RFC 4271 §10: keepalive = hold / 3');
  t.equal(p4.port, 179);
  t.equal(p4.passive, false);
  t.equal(p4.connectRetryTime, 120);
  t.same(p4.families, ['ipv4-unicast']);
  t.same(
    p4.maxPrefixes,
    { 'ipv4-unicast': 100, 'ipv6-unicast': 100 },
    'a number applies to every family',
  );
  t.same(p4.gracefulRestart, { enabled: true, restartTime: 120 });
  t.equal(p6.address, '2001:db8::1', 'addresses are canonical');
  t.same(p6.families, ['ipv6-unicast']);
  t.equal(p6.holdTime, 90);
  t.equal(p6.keepaliveTime, 30);
  const zero = parseConfig('peers: [{address: 10.0.0.1, asn: 1, holdTime: 0}]', {});
  t.ok(zero.ok && zero.config.peers[0].keepaliveTime === 0, 'hold time 0: no keepalives');
});

t.test("the issue's error classes, all reported at once, with lines", async (t) => {
  const text = [
    'node:', //                                                       1
    '  asn: 0', //                                                    2
    '  routerID: 10.0.0.1', //                                        3
    'pools:', //                                                      4
    '  - cidr: 10.244.0.1/16', //                                     5
    '  - cidr: 10.240.0.0/12', //                                     6
    'peers:', //                                                      7
    '  - address: 192.168.30.1', //                                   8
    '    asn: 4294967296', //                                         9
    '    holdTime: 2', //                                             10
    '  - address: 192.168.30.1', //                                   11
    '    asn: 65001', //                                              12
    '    holdTime: 1', //                                             13
    '  - address: 192.168.30.256', //                                 14
    '    asn: 65001', //                                              15
    '    hold_time: 90', //                                           16
  ].join('\n');
  const errs = errorsOf(parseConfig(text, {}, 'podbgp.yaml'));
  const expect: [string, RegExp, string, unknown?][] = [
    ['node.asn', /1\.\.4294967295/, 'podbgp.yaml:2:8', 0],
    ['node.routerID', /did you mean "routerId"/, 'podbgp.yaml:3:3'],
    [
      'pools[0].cidr',
      /host bits set; the network is 10\.244\.0\.0\/16/,
      'podbgp.yaml:5:11',
      '10.244.0.1/16',
    ],
    ['pools[1].cidr', /overlaps pools\[0\]/, 'podbgp.yaml:6:11', '10.240.0.0/12'],
    ['peers[0].asn', new RegExp(`1\\.\\.${MAX_ASN}`), 'podbgp.yaml:9:10', 4294967296],
    ['peers[0].holdTime', /0 .* or 3\.\.65535.*RFC 4271 §4\.2/, 'podbgp.yaml:10:15', 2],
    ['peers[1].holdTime', /RFC 4271 §4\.2/, 'podbgp.yaml:13:15', 1],
    ['peers[1].address', /duplicate peer.*peers\[0\]/, 'podbgp.yaml:11:14', '192.168.30.1'],
    ['peers[2].address', /IPv4 or IPv6 address/, 'podbgp.yaml:14:14', '192.168.30.256'],
    ['peers[2].hold_time', /did you mean "holdTime"/, 'podbgp.yaml:16:5'],
  ];
  for (const [path, msg, source, value] of expect) {
    const e = find(errs, path);
    t.ok(e, `error at ${path}`);
    t.match(e?.message, msg, `${path} message`);
    t.equal(e?.source, source, `${path} location`);
    if (value !== undefined) t.same(e?.value, value, `${path} names the bad value`);
  }
  t.equal(errs.length, expect.length, 'exactly these errors, nothing duplicated');
  const text2 = formatConfigErrors(errs);
  t.match(text2, /^10 config errors:/);
  t.match(text2, /podbgp\.yaml:10:15: peers\[0\]\.holdTime: got 2; hold time must be/);
});

t.test('unknown keys far from any name list what is allowed', async (t) => {
  const errs = errorsOf(parseConfig('kernel: {zzzzzzzz: 1}\nbananas: 2', {}));
  t.match(
    find(errs, 'kernel.zzzzzzzz')?.message,
    /allowed here: table, protocol, flushOnExit, tunnelMtu/,
  );
  t.match(find(errs, 'bananas')?.message, /allowed here: node, listen, pools/);
  const deep = errorsOf(
    parseConfig(
      'policies: {p: {import: [{set: {localpref: 5}}]}}\npeers: [{address: 10.0.0.1, asn: 1, gracefulRestart: {restartTme: 5}}]',
      {},
    ),
  );
  t.match(find(deep, 'policies.p.import[0].set.localpref')?.message, /did you mean "localPref"/);
  t.match(find(deep, 'peers[0].gracefulRestart.restartTme')?.message, /did you mean "restartTime"/);
});

t.test('field rules', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['pools: [{cidr: 10.244.0.0/16, blockSize: 33}]', 'pools[0].blockSize', /20\.\.32/],
    ['pools: [{cidr: 10.244.0.0/22, blockSize: 21}]', 'pools[0].blockSize', /22\.\.32/],
    [
      'pools: [{cidr: 10.244.0.0/16, ipipMode: always}]',
      'pools[0].ipipMode',
      /Always, CrossSubnet or Never/,
    ],
    [
      'pools: [{cidr: "fd00::/48", ipipMode: Always}]',
      'pools[0].ipipMode',
      /Never for an IPv6 pool/,
    ],
    ['pools: [{cidr: 10.244.0.0}]', 'pools[0].cidr', /must be a CIDR/],
    ['node: {ipv4: {address: "2001:db8::1"}}', 'node.ipv4.address', /IPv4 address/],
    [
      'node: {ipv4: {autodetectionMethod: "interface=("}}',
      'node.ipv4.autodetectionMethod',
      /regular expression/,
    ],
    [
      'node: {ipv4: {autodetectionMethod: "can-reach=2001:db8::1"}}',
      'node.ipv4.autodetectionMethod',
      /IPv6 address but this method detects the IPv4/,
    ],
    ['node: {name: "Bad_Name"}', 'node.name', /Kubernetes node name/],
    ['node: {routerId: "1.2.3"}', 'node.routerId', /dotted quad/],
    [
      'node: {ipv4: {address: none}}',
      'node.routerId',
      /required when node\.ipv4\.address is "none"/,
    ],
    [
      'node: {ipv4: {autodetectionMethod: kubernetes-internal-ip}}\nkubernetes: {enabled: false}',
      'node.ipv4.autodetectionMethod',
      /needs kubernetes\.enabled/,
    ],
    ['listen: {port: 0}', 'listen.port', /1\.\.65535/],
    [
      'peers: [{address: 10.0.0.1, asn: 1, localAddress: "2001:db8::1"}]',
      'peers[0].localAddress',
      /IPv4 address like the peer/,
    ],
    [
      'peers: [{address: 10.0.0.1, asn: 1, families: [ipv4-multicast]}]',
      'peers[0].families[0]',
      /ipv4-unicast, ipv6-unicast/,
    ],
    ['peers: [{address: 10.0.0.1, asn: 1, families: []}]', 'peers[0].families', /at least one/],
    [
      'peers: [{address: 10.0.0.1, asn: 1, gracefulRestart: {restartTime: 4096}}]',
      'peers[0].gracefulRestart.restartTime',
      /4095.*RFC 4724/,
    ],
    ['peers: [{address: 10.0.0.1, asn: 1, passive: "yes"}]', 'peers[0].passive', /true or false/],
    ['peers: [{address: 10.0.0.1}]', 'peers[0].asn', /is required; must be an AS number/],
    [
      'peers: [{address: 10.0.0.1, asn: 1, policy: nope}]',
      'peers[0].policy',
      /no such policy; none is defined/,
    ],
    [
      'peers: [{address: 10.0.0.1, asn: 1, maxPrefixes: {ipv4: 5}}]',
      'peers[0].maxPrefixes.ipv4',
      /did you mean "ipv4-unicast"/,
    ],
    ['rib: {multipathMax: 0}', 'rib.multipathMax', /1 \(no ECMP\)\.\.256/],
    ['rib: {clusterId: 5}', 'rib.clusterId', /dotted quad/],
    ['kernel: {protocol: 3}', 'kernel.protocol', /5\.\.255/],
    ['kernel: {table: local}', 'kernel.table', /"main" or a routing table number/],
    ['kernel: {tunnelMtu: 20}', 'kernel.tunnelMtu', /68\.\.65515/],
    ['control: {socket: relative.sock}', 'control.socket', /absolute path/],
    ['metrics: {listen: "127.0.0.1"}', 'metrics.listen', /HOST:PORT/],
    ['logLevel: verbose', 'logLevel', /trace, debug, info/],
    [
      'staticBlocks: [10.244.1.0/26]\npools: [{cidr: 10.245.0.0/16}]',
      'staticBlocks[0]',
      /inside no pool/,
    ],
    [
      'staticBlocks: [10.244.1.0/26, 10.244.1.0/27]\npools: [{cidr: 10.244.0.0/16}]',
      'staticBlocks[1]',
      /overlaps staticBlocks\[0\]/,
    ],
    [
      'policies: {p: {export: [{match: {prefixes: [{prefix: 10.0.0.0/8, ge: 4}]}}]}}',
      'policies.p.export[0].match.prefixes[0]',
      /8 <= ge <= le <= 32/,
    ],
    [
      'policies: {p: {export: [{match: {prefixes: [{prefix: 10.0.0.0/8, ge: 24, le: 16}]}}]}}',
      'policies.p.export[0].match.prefixes[0]',
      /ge <= le/,
    ],
    [
      'policies: {p: {export: [{match: {communities: ["65536:1"]}}]}}',
      'policies.p.export[0].match.communities[0]',
      /16 bits each/,
    ],
    [
      'policies: {p: {export: [{set: {addLargeCommunities: ["1:2"]}}]}}',
      'policies.p.export[0].set.addLargeCommunities[0]',
      /GLOBAL:LOCAL1:LOCAL2/,
    ],
    [
      'policies: {p: {export: [{set: {asPathPrepend: 40}}]}}',
      'policies.p.export[0].set.asPathPrepend.count',
      /1\.\.32/,
    ],
    [
      'policies: {p: {export: [{action: drop}]}}',
      'policies.p.export[0].action',
      /accept or reject/,
    ],
    [
      'policies: {p: {export: [{match: {prefixList: pod}}]}}\nprefixLists: {pods: []}',
      'policies.p.export[0].match.prefixList',
      /did you mean "pods"/,
    ],
  ];
  for (const [text, path, re] of cases) {
    const r = parseConfig(text, {});
    t.notOk(r.ok, text);
    if (r.ok) continue;
    const e = find(r.errors, path);
    t.ok(e, `${text} -> error at ${path} (got ${r.errors.map((x) => x.path).join(', ')})`);
    t.match(e?.message, re, `${path}: ${e?.message}`);
  }
});

t.test('policies normalise to typed values', async (t) => {
  const r = parseConfig(
    `prefixLists:
  pods: [10.244.0.0/16, {prefix: 10.245.0.0/16, ge: 26}]
policies:
  p:
    export:
      - match: {prefixList: pods, communities: ["64512:100", no-export], largeCommunities: ["64512:1:2"]}
        action: reject
        set: {med: 5, localPref: 200, asPathPrepend: {count: 2, asn: 65000}, removeCommunities: [no-advertise]}
      - {}`,
    {},
  );
  t.ok(r.ok);
  if (!r.ok) return;
  t.same(
    r.config.prefixLists.pods,
    [
      { prefix: '10.244.0.0/16', family: 4, length: 16, ge: 16, le: 16, action: 'permit' },
      { prefix: '10.245.0.0/16', family: 4, length: 16, ge: 26, le: 32, action: 'permit' },
    ],
    'exact match by default; ge alone means ge..32',
  );
  const [rule, empty] = r.config.policies.p.export;
  // RFC 1997: 64512:100 = 64512 * 65536 + 100; NO_EXPORT = 0xFFFFFF01; NO_ADVERTISE = 0xFFFFFF02.
  t.same(rule.match.communities, [64512 * 65536 + 100, 0xffffff01]);
  t.same(rule.match.largeCommunities, [{ globalAdmin: 64512, localData1: 1, localData2: 2 }]);
  t.same(rule.set.asPathPrepend, { count: 2, asn: 65000 });
  t.same(rule.set.removeCommunities, [0xffffff02]);
  t.equal(rule.action, 'reject');
  t.same(empty, {
    match: {
      prefixes: [],
      prefixList: null,
      communities: [],
      largeCommunities: [],
      family: null,
      asPathContains: null,
    },
    action: 'accept',
    set: {
      localPref: null,
      med: null,
      asPathPrepend: null,
      addCommunities: [],
      removeCommunities: [],
      addLargeCommunities: [],
      removeLargeCommunities: [],
    },
  });
  t.same(r.config.policies.p.import, []);
});

t.test('YAML problems', async (t) => {
  const syntax = errorsOf(parseConfig('node:\n  asn: [1,\n', {}, 'f.yaml'));
  t.match(syntax[0].message, /^YAML: /);
  t.match(syntax[0].source, /^f\.yaml:\d+:\d+$/);
  const dup = errorsOf(parseConfig('node: {}\nnode: {}', {}, 'f.yaml'));
  t.match(dup[0].message, /unique/i, 'duplicate keys are an error');
  const list = errorsOf(parseConfig('- a\n- b', {}, 'f.yaml'));
  t.match(list[0].message, /must be a mapping/);
  t.match(
    errorsOf(parseConfig('node: 5', {}))
      .map((e) => e.message)
      .join(),
    /must be a mapping/,
  );
});

t.test('errors come in file order', async (t) => {
  const errs = errorsOf(
    parseConfig(
      'peers: [{address: 10.0.0.1, asn: 1, policy: nope}]\nnode: {asn: 0}\nlogLevel: loud',
      {},
      'f.yaml',
    ),
  );
  const lines = errs.map((e) => Number(/:(\d+):\d+$/.exec(e.source ?? '')?.[1]));
  t.same(
    lines,
    [...lines].sort((a, b) => a - b),
  );
  t.same(
    errs.map((e) => e.path),
    ['peers[0].policy', 'node.asn', 'logLevel'],
  );
});

t.test('rule conditions: family, AS path, deny lines, one prefix source', async (t) => {
  const r = parseConfig(
    `prefixLists: {l: [{prefix: 10.0.0.0/8, le: 32, action: deny}, 0.0.0.0/0]}
policies: {p: {import: [{match: {prefixList: l, family: ipv4-unicast, asPathContains: 65666}, action: reject}]}}`,
    {},
  );
  t.ok(r.ok);
  if (!r.ok) return;
  t.equal(r.config.prefixLists.l[0].action, 'deny');
  t.same([r.config.prefixLists.l[0].ge, r.config.prefixLists.l[0].le], [8, 32], 'le alone: 8..32');
  t.equal(r.config.policies.p.import[0].match.family, 'ipv4-unicast');
  t.equal(r.config.policies.p.import[0].match.asPathContains, 65666);
  const both = errorsOf(
    parseConfig(
      'prefixLists: {l: []}\npolicies: {p: {import: [{match: {prefixList: l, prefixes: [10.0.0.0/8]}}]}}',
      {},
    ),
  );
  t.match(find(both, 'policies.p.import[0].match.prefixList')?.message, /not both/);
});
