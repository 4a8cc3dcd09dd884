// The adapter from the RIB's outbound updates to UPDATE bytes: decoding what it packs gives the
// prefixes, next hop and attributes back, for IPv4, IPv6 and End-of-RIB.
import t from 'tap';
import { AsPath } from '../../protocol/as-path.js';
import { HEADER_LENGTH } from '../../protocol/constants.js';
import { prefixListFromStrings, prefixListToStrings } from '../../protocol/prefix.js';
import type { CodecContext } from '../../protocol/types.js';
import { decodeUpdate } from '../../protocol/update.js';
import { packOutbound, packingSink } from '../../src/rib/pack-adapter.js';

const ctx: CodecContext = {
  as4: true,
  addPath: { ipv4: false, ipv6: false },
  extendedMessage: false,
  ebgp: true,
};
const body = (b: Buffer): Buffer => b.subarray(HEADER_LENGTH);

t.test('IPv4 announcement', async (t) => {
  const prefixes = ['10.244.1.0/26', '10.244.2.0/26'];
  const [msg, ...rest] = packOutbound(
    {
      kind: 'announce',
      family: 'ipv4-unicast',
      attributes: {
        origin: 0,
        asPath: AsPath.sequence([65000]),
        nextHop: '192.0.2.2',
        communities: [42],
      },
      prefixes: prefixListFromStrings(1, prefixes),
    },
    ctx,
  );
  t.equal(rest.length, 0);
  const u = decodeUpdate(body(msg), ctx);
  t.same(prefixListToStrings(u.nlri), prefixes);
  t.equal(u.attributes.nextHop, '192.0.2.2');
  t.same(u.attributes.asPath?.segments, [{ type: 2, asns: [65000] }]);
  t.same(u.attributes.communities, [42]);
});

t.test('IPv6 announcement and withdrawal use MP_REACH / MP_UNREACH', async (t) => {
  const [msg] = packOutbound(
    {
      kind: 'announce',
      family: 'ipv6-unicast',
      attributes: { origin: 0, asPath: AsPath.EMPTY, nextHop: 'fd00::1', localPref: 100 },
      prefixes: prefixListFromStrings(2, ['fd00:10::/64']),
    },
    { ...ctx, ebgp: false },
  );
  const u = decodeUpdate(body(msg), { ...ctx, ebgp: false });
  t.same(u.attributes.mpReach?.nextHops, ['fd00::1']);
  t.same(prefixListToStrings(u.attributes.mpReach!.nlri!), ['fd00:10::/64']);
  t.equal(u.attributes.nextHop, undefined, 'no NEXT_HOP attribute with MP_REACH (RFC 4760 §3)');
  const [w] = packOutbound(
    {
      kind: 'withdraw',
      family: 'ipv6-unicast',
      prefixes: prefixListFromStrings(2, ['fd00:10::/64']),
    },
    ctx,
  );
  t.same(prefixListToStrings(decodeUpdate(body(w), ctx).attributes.mpUnreach!.withdrawn!), [
    'fd00:10::/64',
  ]);
});

t.test('End-of-RIB and the sink reports backpressure', async (t) => {
  const out: Buffer[] = [];
  const sink = packingSink(ctx, (m) => out.push(m) < 2);
  t.equal(sink.send({ kind: 'end-of-rib', family: 'ipv4-unicast' }), true);
  t.equal(decodeUpdate(body(out[0]), ctx).endOfRib, 'ipv4-unicast');
  t.equal(
    sink.send({
      kind: 'withdraw',
      family: 'ipv4-unicast',
      prefixes: prefixListFromStrings(1, ['10.0.0.0/8']),
    }),
    false,
  );
  t.same(prefixListToStrings(decodeUpdate(body(out[1]), ctx).withdrawn), ['10.0.0.0/8']);
});
