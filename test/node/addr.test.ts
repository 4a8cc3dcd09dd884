// IP and CIDR arithmetic: parsing, canonical text (RFC 5952), containment, overlap, host bits.
import t from 'tap';
import fc from 'fast-check';
import { isIPv6 } from 'node:net';
import {
  cidrContains,
  cidrsOverlap,
  formatIp,
  parseCidr,
  parseIp,
  unusableReason,
} from '../../src/node/addr.js';

t.test('parseIp: families, values and RFC 5952 text', async (t) => {
  t.same(parseIp('192.168.30.71'), { family: 4, value: 0xc0a81e47n, text: '192.168.30.71' });
  t.equal(
    parseIp('2001:DB8:0:0:0:0:0:1')?.text,
    '2001:db8::1',
    'RFC 5952 §4.2/4.3: compress, lower case',
  );
  t.equal(
    parseIp('2001:db8:0:1:0:0:0:1')?.text,
    '2001:db8:0:1::1',
    'longest zero run is compressed',
  );
  t.equal(
    parseIp('2001:0:0:1:0:0:0:1')?.text,
    '2001:0:0:1::1',
    'RFC 5952 §4.2.3: longest run wins',
  );
  t.equal(
    parseIp('2001:db8:0:1:1:1:1:1')?.text,
    '2001:db8:0:1:1:1:1:1',
    'RFC 5952 §4.2.2: no :: for one hextet',
  );
  t.equal(parseIp('::ffff:192.0.2.1')?.value, 0xffffc0000201n, 'embedded IPv4 tail');
  t.equal(parseIp('::')?.text, '::');
  for (const bad of ['192.168.30.300', '1.2.3', 'fe80::1%eth0', 'x', '', '10.0.0.1/8'])
    t.equal(parseIp(bad), null, bad);
});

t.test('parseCidr: host bits, canonical network, bad lengths', async (t) => {
  const c = parseCidr('10.244.118.193/26');
  t.equal(c?.hostBitsSet, true);
  t.equal(c?.text, '10.244.118.192/26');
  t.equal(parseCidr('10.244.0.0/16')?.hostBitsSet, false);
  t.equal(parseCidr('2001:db8::1/64')?.text, '2001:db8::/64');
  for (const bad of [
    '10.0.0.0/33',
    '2001:db8::/129',
    '10.0.0.0',
    '10.0.0.0/',
    '10.0.0.0/-1',
    '10.0.0.0/8a',
  ])
    t.equal(parseCidr(bad), null, bad);
});

t.test('containment and overlap', async (t) => {
  const pool = parseCidr('10.244.0.0/16')!;
  t.ok(cidrContains(pool, parseIp('10.244.255.255')!));
  t.notOk(cidrContains(pool, parseIp('10.245.0.0')!));
  t.notOk(cidrContains(pool, parseIp('::a0f4:0')!), 'families never mix');
  t.ok(cidrsOverlap(pool, parseCidr('10.244.128.0/17')!));
  t.ok(cidrsOverlap(parseCidr('10.0.0.0/8')!, pool));
  t.notOk(cidrsOverlap(pool, parseCidr('10.245.0.0/16')!));
  t.ok(cidrsOverlap(parseCidr('0.0.0.0/0')!, pool));
});

t.test('unusable addresses', async (t) => {
  for (const [ip, why] of [
    ['127.0.0.1', /loopback/],
    ['169.254.1.1', /link-local/],
    ['224.0.0.5', /multicast/],
    ['0.0.0.0', /unspecified/],
    ['255.255.255.255', /broadcast/],
    ['::1', /loopback/],
    ['fe80::1', /link-local/],
    ['ff02::1', /multicast/],
  ] as const) {
    t.match(unusableReason(parseIp(ip)!), why, ip);
  }
  for (const ok of ['10.0.0.1', '192.168.30.71', '100.64.0.1', 'fd00::1', '2001:db8::1'])
    t.equal(unusableReason(parseIp(ok)!), null, ok);
});

t.test('property: formatIp(parseIp(x)) is stable and agrees with node:net', async () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (v) => {
      const text = formatIp(6, v);
      const back = parseIp(text);
      return isIPv6(text) && back !== null && back.value === v && back.text === text;
    }),
  );
  fc.assert(
    fc.property(fc.ipV4(), (s) => parseIp(s)?.text === s && formatIp(4, parseIp(s)!.value) === s),
  );
});
