// Parsers and renderers of the kernel layer against iproute2's real output formats: address
// text (RFC 4291 §2.2 in, RFC 5952 §4 out), `ip -json route`, `ip monitor route`, batch errors.
import t from 'tap';
import {
  canonicalAddr,
  canonicalPrefix,
  canonicalV4Fast,
  parsePrefix,
} from '../../src/kernel/addr.js';
import { parseBatchErrors } from '../../src/kernel/batch.js';
import { normalizeProtocol, normalizeTable, spellProtocol } from '../../src/kernel/names.js';
import {
  parseJsonRoute,
  parseMonitorRoute,
  renderDelete,
  renderInstall,
  routeKey,
} from '../../src/kernel/routes.js';

t.test('RFC 5952 §4 canonical IPv6 text', async (t) => {
  // Examples from RFC 5952 §4.1-4.3 and inet_ntop behaviour for mapped addresses.
  t.equal(
    canonicalAddr('2001:0db8:0000:0000:0000:0000:0000:0001'),
    '2001:db8::1',
    '§4.1 no leading zeros',
  );
  t.equal(canonicalAddr('2001:db8:0:0:0:0:2:1'), '2001:db8::2:1', '§4.2.1 longest run');
  t.equal(
    canonicalAddr('2001:db8:0:1:1:1:1:1'),
    '2001:db8:0:1:1:1:1:1',
    '§4.2.2 a single 0 is kept',
  );
  t.equal(canonicalAddr('2001:0:0:1:0:0:0:1'), '2001:0:0:1::1', '§4.2.3 longest run wins');
  t.equal(canonicalAddr('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1', '§4.2.3 first of equal runs');
  t.equal(canonicalAddr('2001:DB8::A'), '2001:db8::a', '§4.3 lower case');
  t.equal(
    canonicalAddr('::ffff:192.0.2.1'),
    '::ffff:192.0.2.1',
    'IPv4-mapped keeps the dotted tail',
  );
  t.equal(canonicalAddr('::'), '::');
  t.equal(
    canonicalAddr('1:2:3:4:5:6:7::'),
    '1:2:3:4:5:6:7:0',
    'a single trailing zero group is not compressed',
  );
  t.equal(canonicalAddr('1::2::3'), null, 'two :: are invalid');
  t.equal(canonicalAddr('256.1.1.1'), null);
});

t.test('prefixes: host bits, host routes, default', async (t) => {
  t.equal(canonicalPrefix('10.244.5.192/26'), '10.244.5.192/26');
  t.equal(
    canonicalPrefix('10.244.5.193/26'),
    null,
    'host bits set is rejected, as the kernel does',
  );
  t.equal(canonicalPrefix('10.1.2.3/32'), '10.1.2.3', 'iproute2 prints host routes without /32');
  t.equal(canonicalPrefix('fd00::/64'), 'fd00::/64');
  t.equal(canonicalPrefix('default', 6), '::/0');
  t.equal(canonicalPrefix('10.0.0.0/33'), null);
  const p = parsePrefix('10.244.5.193/26');
  t.match(p, { ok: false, error: /host bits/ });
});

t.test('canonicalV4Fast agrees with the full parser', async (t) => {
  const cases = [
    '10.244.5.192/26',
    '10.244.5.193/26',
    '10.0.0.0/8',
    '0.0.0.0/0',
    '010.1.0.0/16',
    '10.1.0.0/016',
    '10.1.1.1/32',
    '10.1.1.1',
    '1.2.3/24',
    '300.1.1.0/24',
    '10.1.1.0/24x',
    'fd00::/64',
    '255.255.255.254/31',
  ];
  for (const c of cases) {
    const fast = canonicalV4Fast(c);
    const slow = canonicalPrefix(c);
    // The fast path may decline (null) but must never disagree.
    if (fast !== null) t.equal(fast, slow, c);
    else t.pass(`${c}: left to the full parser`);
  }
  t.equal(
    canonicalV4Fast('10.244.5.192/26'),
    '10.244.5.192/26',
    'the common case takes the fast path',
  );
});

t.test('ip -json route output (iproute2 6.1) to routes', async (t) => {
  // Captured from `ip -json route show table main proto bgp` on this machine.
  const json = JSON.parse(
    '[{"dst":"10.244.1.0/26","gateway":"192.168.30.72","dev":"pbk-v0","flags":[]},' +
      '{"type":"blackhole","dst":"10.244.3.0/26","flags":[]},' +
      '{"dst":"10.244.4.0/26","flags":[],"nexthops":[{"gateway":"192.168.30.72","dev":"pbk-v0","weight":1,"flags":[]},{"gateway":"192.168.26.72","dev":"pbk-v1","weight":1,"flags":[]}]},' +
      '{"dst":"10.244.6.0/26","gateway":"1.2.3.4","dev":"pbk-v0","flags":["onlink"],"metrics":[{"mtu":1480}]}]',
  ) as Parameters<typeof parseJsonRoute>[0][];
  const target = { table: 'main', protocol: 'bgp' };
  const [direct, bh, ecmp, onlink] = json.map((j) => parseJsonRoute(j, 4));
  t.equal(
    renderInstall('replace', direct!, target),
    'route replace 10.244.1.0/26 via 192.168.30.72 dev pbk-v0 proto bgp',
  );
  t.equal(renderInstall('replace', bh!, target), 'route replace blackhole 10.244.3.0/26 proto bgp');
  t.equal(
    renderInstall('replace', ecmp!, target),
    'route replace 10.244.4.0/26 proto bgp nexthop via 192.168.26.72 dev pbk-v1 weight 1 nexthop via 192.168.30.72 dev pbk-v0 weight 1',
  );
  t.equal(
    renderInstall('replace', onlink!, target),
    'route replace 10.244.6.0/26 via 1.2.3.4 dev pbk-v0 proto bgp onlink mtu 1480',
  );
  t.equal(
    parseJsonRoute({ dst: '10.9.0.0/16', dev: 'eth0' }, 4),
    null,
    'dev-only routes are not a shape we install',
  );
  t.equal(
    renderDelete('10.244.1.0/26', { table: '100', protocol: 'bgp' }),
    'route del 10.244.1.0/26 proto bgp table 100',
  );
});

t.test('ip monitor route lines (iproute2 6.1 text) to events', async (t) => {
  const del = parseMonitorRoute(['Deleted blackhole 10.244.3.0/26 proto bgp ']);
  t.match(del, {
    deleted: true,
    prefix: '10.244.3.0/26',
    type: 'blackhole',
    protocol: '186',
    table: '254',
  });
  const ecmp = parseMonitorRoute([
    '10.244.7.0/26 proto bgp ',
    '\tnexthop via 1.2.3.4 dev pbk-v0 weight 1 onlink ',
    '\tnexthop via 192.168.26.5 dev pbk-v1 weight 2 ',
  ]);
  const json = parseJsonRoute(
    {
      dst: '10.244.7.0/26',
      nexthops: [
        { gateway: '1.2.3.4', dev: 'pbk-v0', weight: 1, flags: ['onlink'] },
        { gateway: '192.168.26.5', dev: 'pbk-v1', weight: 2, flags: [] },
      ],
    },
    4,
  );
  t.equal(routeKey(ecmp.route!), routeKey(json!), 'monitor and JSON give the same key');
  const v6 = parseMonitorRoute([
    '2001:db8:1::/64 via fe80::1 dev eth0 proto bgp metric 1024 pref medium',
  ]);
  t.match(v6, { prefix: '2001:db8:1::/64', protocol: '186' });
  t.equal(v6.route?.nexthops[0].via, 'fe80::1');
  const conn = parseMonitorRoute([
    '192.168.40.0/24 dev pbk-v0 proto kernel scope link src 192.168.40.1 ',
  ]);
  t.match(conn, { hasGateway: false, scope: 'link', protocol: '2' });
  const other = parseMonitorRoute(['10.50.0.0/24 dev pbk-v0 table 100 proto 187 scope link ']);
  t.match(other, { table: '100', protocol: '187' });
});

t.test('batch errors map to their lines', async (t) => {
  // iproute2's stderr for `ip -force -batch -` with lines 2 and 5 failing.
  const stderr =
    'Error: Nexthop has invalid gateway.\nCommand failed -:2\nRTNETLINK answers: No such process\nCommand failed -:5\n';
  const { failures, stray } = parseBatchErrors(stderr, 6);
  t.same(
    [...failures.entries()],
    [
      [1, 'Nexthop has invalid gateway.'],
      [4, 'No such process'],
    ],
  );
  t.same(stray, []);
});

t.test('table and protocol names', async (t) => {
  t.equal(normalizeTable('main'), normalizeTable(254));
  t.equal(normalizeProtocol('bgp'), '186');
  t.equal(spellProtocol(186), 'bgp');
  t.equal(spellProtocol('200'), '200');
});
