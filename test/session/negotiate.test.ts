// Capability negotiation: our OPEN, the intersection with the peer's, and the RFC 4271 §6.2
// checks that need configuration.

import t from 'tap';
import type { Capability, OpenMessage } from '../../protocol/types.js';
import {
  buildOpen,
  negotiate,
  rejectedCapabilities,
  type LocalSpeaker,
} from '../../src/session/negotiate.js';

const local: LocalSpeaker = {
  asn: 4200000001,
  routerId: '192.0.2.1',
  holdTime: 90,
  families: ['ipv4-unicast', 'ipv6-unicast'],
  addPath: { 'ipv4-unicast': 'both' },
  gracefulRestart: { restartTime: 120, restarting: false, forwarding: true },
  extendedMessage: true,
  extendedNextHop: true,
};

function peerOpen(caps: Capability[], over: Partial<OpenMessage> = {}): OpenMessage {
  return {
    type: 'open',
    version: 4,
    myAs: 65002,
    holdTime: 30,
    routerId: '192.0.2.2',
    capabilities: caps,
    ...over,
  };
}

t.test(
  'our OPEN puts AS_TRANS in My AS for a 4-octet ASN and the real ASN in the capability',
  async (t) => {
    const open = buildOpen(local);
    t.equal(open.myAs, 23456);
    const four = open.capabilities.find((c) => c.name === 'four-octet-as');
    t.same(four, { name: 'four-octet-as', code: 65, asn: 4200000001 });
    t.same(
      open.capabilities.filter((c) => c.name === 'multiprotocol').map((c) => c.code),
      [1, 1],
    );
    t.ok(open.capabilities.some((c) => c.name === 'graceful-restart'));
  },
);

t.test('a 2-octet ASN goes in My AS directly', async (t) => {
  t.equal(buildOpen({ ...local, asn: 65001 }).myAs, 65001);
});

t.test('a rejected capability is left out of the next OPEN', async (t) => {
  const open = buildOpen(local, new Set([69, 6]));
  t.notOk(open.capabilities.some((c) => c.code === 69 || c.code === 6));
  t.ok(open.capabilities.some((c) => c.code === 65));
});

t.test(
  'families are the intersection; hold time the smaller; ADD-PATH per direction',
  async (t) => {
    const r = negotiate(
      local,
      new Set(),
      peerOpen([
        { name: 'multiprotocol', code: 1, afi: 1, safi: 1 },
        { name: 'route-refresh', code: 2 },
        { name: 'four-octet-as', code: 65, asn: 65002 },
        { name: 'add-path', code: 69, families: [{ afi: 1, safi: 1, mode: 'receive' }] },
        {
          name: 'graceful-restart',
          code: 64,
          restarting: true,
          notification: false,
          restartTime: 90,
          families: [{ afi: 1, safi: 1, forwarding: true }],
        },
      ]),
      65002,
    );
    if (!('ok' in r)) return t.fail(`unexpected error ${JSON.stringify(r)}`);
    const n = r.ok;
    t.same(n.families, ['ipv4-unicast']);
    t.equal(n.holdTime, 30);
    t.equal(n.as4, true);
    t.equal(n.routeRefresh, true);
    t.equal(n.enhancedRouteRefresh, false, 'peer did not offer enhanced route refresh');
    t.equal(n.extendedMessage, false, 'peer did not offer extended message');
    // We offered both; the peer only receives: we send path ids, we do not receive them.
    t.same(n.addPath['ipv4-unicast'], { send: true, receive: false });
    t.same(n.send.addPath, { ipv4: true, ipv6: false });
    t.same(n.receive.addPath, { ipv4: false, ipv6: false });
    t.equal(n.send.ebgp, true);
    t.same(n.gracefulRestart, {
      restartTime: 90,
      restarting: true,
      notification: false,
      families: [{ family: 'ipv4-unicast', forwarding: true }],
    });
  },
);

t.test('RFC 8538: the N bit counts only when both sides set it', async (t) => {
  const gr = (notification: boolean): Capability => ({
    name: 'graceful-restart',
    code: 64,
    restarting: false,
    notification,
    restartTime: 120,
    families: [],
  });
  const both = negotiate(local, new Set(), peerOpen([gr(true)]), 65002);
  t.equal('ok' in both && both.ok.gracefulRestart?.notification, true);
  const theirsOnly = negotiate(local, new Set([64]), peerOpen([gr(true)]), 65002);
  t.equal('ok' in theirsOnly && theirsOnly.ok.gracefulRestart?.notification, false);
  const oursOnly = negotiate(local, new Set(), peerOpen([gr(false)]), 65002);
  t.equal('ok' in oursOnly && oursOnly.ok.gracefulRestart?.notification, false);
  const ourOpen = buildOpen(local).capabilities.find((c) => c.name === 'graceful-restart');
  t.equal(ourOpen && ourOpen.name === 'graceful-restart' && ourOpen.notification, true);
});

t.test('a peer without MP capabilities speaks IPv4 unicast (RFC 4760 §8)', async (t) => {
  const r = negotiate(local, new Set(), peerOpen([]), 65002);
  if (!('ok' in r)) return t.fail('error');
  t.same(r.ok.families, ['ipv4-unicast']);
  t.equal(r.ok.as4, false);
  t.equal(r.ok.receive.as4, false, 'the codec decodes 2-octet AS_PATHs');
});

t.test('RFC 4271 §6.2 errors', async (t) => {
  const badAs = negotiate(local, new Set(), peerOpen([]), 65003);
  t.same('error' in badAs && [badAs.error.code, badAs.error.subcode], [2, 2], 'Bad Peer AS');
  const sameId = negotiate(
    { ...local, asn: 65002 },
    new Set(),
    peerOpen([], { routerId: '192.0.2.1' }),
    65002,
  );
  t.same(
    'error' in sameId && [sameId.error.code, sameId.error.subcode],
    [2, 3],
    'Bad BGP Identifier',
  );
  const hold = negotiate(local, new Set(), peerOpen([], { holdTime: 2 }), 65002);
  t.same(
    'error' in hold && [hold.error.code, hold.error.subcode],
    [2, 6],
    'Unacceptable Hold Time',
  );
  const trans = negotiate(
    local,
    new Set(),
    peerOpen([{ name: 'four-octet-as', code: 65, asn: 23456 }], { myAs: 23456 }),
    0,
  );
  t.same('error' in trans && [trans.error.code, trans.error.subcode], [2, 2], 'AS_TRANS as ASN');
});

t.test('the Unsupported Capability data lists the rejected codes (RFC 5492 §5)', async (t) => {
  // ADD-PATH (69, len 4) then extended message (6, len 0).
  t.same(rejectedCapabilities(Buffer.from([69, 4, 0, 1, 1, 3, 6, 0])), [69, 6]);
  t.same(rejectedCapabilities(Buffer.alloc(0)), []);
});
