// Parsing of Calico method strings: every method, Calico's comma splitting, and the errors.
import t from 'tap';
import { formatAutodetectMethod, parseAutodetectMethod } from '../../src/node/methods.js';

t.test('every method parses', async (t) => {
  t.same(parseAutodetectMethod('first-found'), { ok: true, method: { kind: 'first-found' } });
  t.same(
    parseAutodetectMethod(''),
    { ok: true, method: { kind: 'first-found' } },
    'empty is first-found, as in Calico',
  );
  t.same(parseAutodetectMethod('kubernetes-internal-ip'), {
    ok: true,
    method: { kind: 'kubernetes-internal-ip' },
  });
  t.same(
    parseAutodetectMethod('interface=ens33, eth0'),
    { ok: true, method: { kind: 'interface', patterns: ['ens33', 'eth0'] } },
    'blanks around commas',
  );
  t.same(parseAutodetectMethod('skip-interface=eth1,ens32'), {
    ok: true,
    method: { kind: 'skip-interface', patterns: ['eth1', 'ens32'] },
  });
  t.same(parseAutodetectMethod('can-reach=192.168.30.1'), {
    ok: true,
    method: { kind: 'can-reach', target: '192.168.30.1', targetIsIp: true },
  });
  t.same(parseAutodetectMethod('can-reach=tor1.example.net'), {
    ok: true,
    method: { kind: 'can-reach', target: 'tor1.example.net', targetIsIp: false },
  });
  const c = parseAutodetectMethod('cidr=192.168.26.0/24,10.0.0.0/8');
  t.ok(c.ok && c.method.kind === 'cidr' && c.method.cidrs.length === 2);
});

t.test('round trip through the formatter', async (t) => {
  for (const s of [
    'first-found',
    'kubernetes-internal-ip',
    'interface=ens33,eth0',
    'skip-interface=^br-.*',
    'can-reach=2001:db8::1',
    'cidr=192.168.26.0/24,10.0.0.0/8',
  ]) {
    const p = parseAutodetectMethod(s);
    t.ok(p.ok, s);
    if (p.ok) t.equal(formatAutodetectMethod(p.method), s);
  }
});

t.test('errors name the problem', async (t) => {
  const cases: [string, 4 | 6 | undefined, RegExp][] = [
    ['frist-found', undefined, /unknown autodetection method.*allowed: first-found/],
    ['interface=', undefined, /needs one or more/],
    ['interface=eth[', undefined, /not a valid regular expression/],
    ['can-reach=', undefined, /needs an IP address or a host name/],
    ['can-reach=bad_host!', undefined, /neither an IP address nor a host name/],
    ['can-reach=2001:db8::1', 4, /IPv6 address but this method detects the IPv4/],
    ['cidr=10.0.0.0', undefined, /not a CIDR/],
    ['cidr=10.0.0.0/8', 6, /IPv4 CIDR but this method detects the IPv6/],
  ];
  for (const [text, fam, re] of cases) {
    const r = parseAutodetectMethod(text, fam);
    t.notOk(r.ok, text);
    if (!r.ok) t.match(r.error, re, text);
  }
});
