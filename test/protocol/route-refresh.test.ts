// Tests for protocol/route-refresh.ts and protocol/keepalive.ts: ROUTE-REFRESH bodies laid out
// from RFC 2918 §3 / RFC 7313 §3, the RFC 7313 §5 length error with the whole message as data,
// and the empty KEEPALIVE.

import t from 'tap';
import {
  decodeRouteRefresh,
  encodeRouteRefresh,
  routeRefreshSubtypeName,
} from '../../protocol/route-refresh.js';
import { decodeKeepalive, encodeKeepalive } from '../../protocol/keepalive.js';
import { catchBgpError, hex, message } from './hand-bytes.js';

t.test('normal request, BoRR and EoRR', async (t) => {
  const cases: [string, number, number, number, string][] = [
    // AFI (2), subtype (1), SAFI (1).
    ['0001 00 01', 1, 1, 0, 'request'],
    ['0002 01 01', 2, 1, 1, 'borr'],
    ['0002 02 01', 2, 1, 2, 'eorr'],
    ['0001 00 80', 1, 128, 0, 'request'],
  ];
  for (const [bytes, afi, safi, subtype, name] of cases) {
    const msg = decodeRouteRefresh(hex(bytes));
    t.same(msg, { type: 'route-refresh', afi, safi, subtype });
    t.same(encodeRouteRefresh(msg), hex(bytes));
    t.equal(routeRefreshSubtypeName(subtype), name);
  }
  t.equal(routeRefreshSubtypeName(7), 'reserved-7');
});

t.test(
  'RFC 7313 §5: wrong length -> 7/1 Invalid Message Length, data = whole message',
  async (t) => {
    const cases: [string, string][] = [
      ['BoRR with one extra octet', '0001 01 01 00'],
      ['EoRR with one extra octet', '0002 02 01 00'],
      ['request with ORF-like trailing data', '0001 00 01 01 0000'],
      ['three octets', '0001 01'],
      ['two octets', '0001'],
    ];
    for (const [what, bytes] of cases) {
      const err = catchBgpError(() => decodeRouteRefresh(hex(bytes)));
      t.equal(err.notification.code, 7, what);
      t.equal(err.notification.subcode, 1, what);
      t.equal(err.handling, 'session-reset', what);
      t.same(err.notification.data, message(5, bytes), `${what}: data`);
    }
  },
);

t.test(
  'reserved subtypes are decoded whatever their length (the session ignores them)',
  async (t) => {
    t.same(decodeRouteRefresh(hex('0001 03 01 aabb')), {
      type: 'route-refresh',
      afi: 1,
      safi: 1,
      subtype: 3,
    });
    t.same(decodeRouteRefresh(hex('0001 ff 01')).subtype, 255);
  },
);

t.test('keepalive', async (t) => {
  t.same(decodeKeepalive(Buffer.alloc(0)), { type: 'keepalive' });
  t.same(encodeKeepalive(), Buffer.alloc(0));
  const err = catchBgpError(() => decodeKeepalive(hex('00')));
  t.equal(err.notification.code, 1);
  t.equal(err.notification.subcode, 2);
  t.same(err.notification.data, hex('0014'));
});
