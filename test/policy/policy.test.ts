// Declarative policy: prefix lists with ge/le, community and large-community match/add/remove,
// AS path prepend, LOCAL_PREF and MED set, and compile errors that name the culprit.
import t from 'tap';
import { AsPath } from '../../protocol/as-path.js';
import { parseV4Prefix } from '../../protocol/prefix.js';
import type { PathAttributes } from '../../protocol/types.js';
import { compilePolicies } from '../../src/policy/compile.js';
import { parseCommunity, parseLargeCommunity } from '../../src/policy/community.js';
import { PrefixList } from '../../src/policy/prefix-match.js';

const v4 = (p: string): number => parseV4Prefix(p)!;

t.test('prefix list ge/le', async (t) => {
  const pl = new PrefixList([
    { prefix: '10.0.0.0/8', action: 'deny', ge: 32 },
    { prefix: '10.0.0.0/8', ge: 24, le: 28 },
    { prefix: '192.0.2.0/24' },
    { prefix: 'fd00::/8', ge: 48 },
  ]);
  const cases: [string, boolean][] = [
    ['10.1.0.0/24', true], // inside, length 24 in 24..28
    ['10.1.0.0/28', true],
    ['10.1.0.0/29', false], // too long
    ['10.1.0.0/16', false], // too short
    ['10.1.0.1/32', false], // deny line first
    ['192.0.2.0/24', true], // exact: ge = le = 24
    ['192.0.2.0/25', false],
    ['11.0.0.0/24', false],
  ];
  for (const [p, want] of cases) t.equal(pl.matches(1, v4(p)), want, p);
  t.equal(pl.matches(2, 'fd00:1:2::/48'), true);
  t.equal(pl.matches(2, 'fd00::/16'), false);
  t.equal(pl.matches(2, '2001:db8::/48'), false);
  t.throws(() => new PrefixList([{ prefix: '10.0.0.0/8', ge: 4 }]), /ge 4/);
  t.throws(() => new PrefixList([{ prefix: '10.0.0.1/8' }]), /not an IPv4 prefix/);
});

t.test('community text forms', async (t) => {
  t.equal(parseCommunity('65000:100'), 65000 * 65536 + 100);
  t.equal(parseCommunity('no-export'), 0xffffff01); // RFC 1997
  t.equal(parseCommunity('NO-ADVERTISE'), 0xffffff02);
  t.same(parseLargeCommunity('4200000000:1:2'), [4200000000, 1, 2]);
  t.throws(() => parseCommunity('70000:1'));
  t.throws(() => parseLargeCommunity('1:2'));
});

const base: PathAttributes = {
  origin: 0,
  asPath: AsPath.sequence([65001, 7]),
  nextHop: '192.0.2.1',
  communities: [65001 * 65536 + 1, 65001 * 65536 + 2],
  largeCommunities: [[65001, 9, 9]],
};

t.test('terms: first match decides; actions produce new attributes', async (t) => {
  const ps = compilePolicies(
    {
      prefixLists: { pods: [{ prefix: '10.244.0.0/16', ge: 26, le: 32 }] },
      policies: {
        p: {
          terms: [
            {
              name: 'blackhole',
              match: { communities: ['blackhole'] },
              then: { verdict: 'reject' },
            },
            {
              name: 'pods',
              match: { prefixList: 'pods', largeCommunities: ['65001:9:9'] },
              then: {
                localPref: 300,
                med: 20,
                removeCommunities: ['65001:1'],
                addCommunities: ['65000:5', 'no-export'],
                removeLargeCommunities: ['65001:9:9'],
                addLargeCommunities: ['65000:0:1'],
                prepend: { count: 2, asn: 65001 },
              },
            },
            {
              name: 'via7',
              match: { asPathContains: 7, family: 'ipv4-unicast' },
              then: { med: 1 },
            },
          ],
          defaultVerdict: 'reject',
        },
      },
    },
    { localAsn: 65000 },
  );
  const p = ps.get('p')!;
  const term = p.match(1, v4('10.244.1.0/26'), base);
  t.equal(term, 1);
  t.ok(p.accepts(term) && p.modifies(term));
  const out = p.transform(term, base);
  t.equal(out.localPref, 300);
  t.equal(out.med, 20);
  t.same(out.communities, [65001 * 65536 + 2, 65000 * 65536 + 5, 0xffffff01]);
  t.same(out.largeCommunities, [[65000, 0, 1]]);
  t.same(out.asPath?.segments, [{ type: 2, asns: [65001, 65001, 65001, 7] }]);
  t.same(base.communities, [65001 * 65536 + 1, 65001 * 65536 + 2], 'input not mutated');

  t.equal(
    p.match(1, v4('10.244.1.0/24'), base),
    2,
    'prefix list ge 26 fails; falls to the AS-path term',
  );
  const bh = { ...base, communities: [0xffff029a] };
  t.notOk(p.accepts(p.match(1, v4('10.244.1.0/26'), bh)), 'blackhole community rejected');
  const other = { ...base, asPath: AsPath.sequence([65001]) };
  const none = p.match(1, v4('198.51.100.0/24'), other);
  t.equal(none, -1);
  t.notOk(p.accepts(none), 'default verdict reject');
  t.equal(p.match(2, 'fd00::/48', base), -1, 'family condition');
});

t.test('compile errors name the culprit', async (t) => {
  t.throws(
    () =>
      compilePolicies(
        { policies: { x: { terms: [{ match: { prefixList: 'nope' } }] } } },
        { localAsn: 1 },
      ),
    /policy "x" term 0: unknown prefix list "nope"/,
  );
  t.throws(
    () =>
      compilePolicies(
        { policies: { x: { terms: [{ then: { prepend: { count: 99 } } }] } } },
        { localAsn: 1 },
      ),
    /prepend count/,
  );
});
