// Tests for protocol/open.ts: OPEN bodies laid out by hand from RFC 4271 §4.2 / RFC 9072 §2,
// decoded field by field and re-encoded byte for byte, and every RFC 4271 §6.2 check with its
// exact code and subcode.

import t from 'tap';
import { decodeOpen, encodedLengthOpen, encodeOpen, parseOpen } from '../../protocol/open.js';
import type { OpenMessage } from '../../protocol/types.js';
import { catchBgpError, hex, u16 } from './hand-bytes.js';

// Version 4, My AS 65001 (fde9), Hold Time 90 (005a), BGP Identifier 192.0.2.1 (c0000201).
const FIXED = '04 fde9 005a c0000201';
// Multiprotocol IPv4 unicast, route refresh, 4-octet AS 65001: 6 + 2 + 6 = 14 octets.
const CAPS = '01 04 0001 00 01  02 00  41 04 0000fde9';
const CAP_LIST = [
  { name: 'multiprotocol', code: 1, afi: 1, safi: 1 },
  { name: 'route-refresh', code: 2 },
  { name: 'four-octet-as', code: 65, asn: 65001 },
] as const;

t.test('classic OPEN: one Capabilities parameter', async (t) => {
  // Opt Parm Len 16 = param type (1) + param length (1) + 14.
  const body = hex(`${FIXED} 10 02 0e ${CAPS}`);
  const msg = decodeOpen(body);
  t.same(msg, {
    type: 'open',
    version: 4,
    myAs: 65001,
    holdTime: 90,
    routerId: '192.0.2.1',
    capabilities: CAP_LIST,
  });
  t.equal(msg.extendedOptParams, undefined);
  t.equal(msg.capabilityParams, undefined);
  t.same(encodeOpen(msg), body);
  t.equal(encodedLengthOpen(msg), body.length);
});

t.test('one capability per parameter (as FRR sends) re-encodes byte for byte', async (t) => {
  const body = hex(`${FIXED} 14  02 06 01 04 0001 00 01  02 02 02 00  02 06 41 04 0000fde9`);
  const msg = decodeOpen(body);
  t.same(msg.capabilities, CAP_LIST);
  t.same(msg.capabilityParams, [1, 1, 1]);
  t.same(encodeOpen(msg), body);
});

t.test('no optional parameters', async (t) => {
  const body = hex(`${FIXED} 00`);
  const msg = decodeOpen(body);
  t.same(msg.capabilities, []);
  t.same(encodeOpen(msg), body);
});

t.test('an empty Capabilities parameter is kept', async (t) => {
  const body = hex(`${FIXED} 02 02 00`);
  const msg = decodeOpen(body);
  t.same(msg.capabilities, []);
  t.same(msg.capabilityParams, [0]);
  t.same(encodeOpen(msg), body);
});

t.test('RFC 9072 extended optional parameters length', async (t) => {
  // Non-Ext OP Len 255, Non-Ext OP Type 255, Extended Opt. Parm. Length 17 (3 + 14), then the
  // Capabilities parameter with a 2-octet Parameter Length of 14.
  const body = hex(`${FIXED} ff ff 0011 02 000e ${CAPS}`);
  const msg = decodeOpen(body);
  t.same(msg.capabilities, CAP_LIST);
  t.equal(msg.extendedOptParams, true);
  t.same(encodeOpen(msg), body, 're-encoded as received');
  // RFC 9072 §2: any non-zero Non-Ext OP Len followed by type 255 means the extended form.
  const odd = hex(`${FIXED} 01 ff 0011 02 000e ${CAPS}`);
  t.same(decodeOpen(odd).capabilities, CAP_LIST);
});

t.test(
  'the encoder uses the extended form only when the classic one cannot carry it',
  async (t) => {
    // 40 unknown capabilities of 7 octets (code 200 = c8, length 5): 280 octets > 255.
    const one = 'c8 05 0102030405';
    const caps = Array.from({ length: 40 }, () => ({
      name: 'unknown' as const,
      code: 200,
      value: hex('0102030405'),
    }));
    const msg: OpenMessage = {
      type: 'open',
      version: 4,
      myAs: 65001,
      holdTime: 90,
      routerId: '192.0.2.1',
      capabilities: caps,
    };
    const expected = hex(`${FIXED} ff ff ${u16(3 + 280)} 02 ${u16(280)} ${one.repeat(40)}`);
    t.same(encodeOpen(msg), expected);
    const back = decodeOpen(expected);
    t.equal(back.extendedOptParams, true);
    t.equal(back.capabilities.length, 40);
    // 36 of them make 252 + 2 = 254 octets: classic.
    const small = { ...msg, capabilities: caps.slice(0, 36) };
    t.same(encodeOpen(small), hex(`${FIXED} fe 02 fc ${one.repeat(36)}`));
    // Two parameters of 126 octets need 2 * (2 + 126) = 256 > 255 classic octets: extended.
    const split = { ...msg, capabilities: caps.slice(0, 36), capabilityParams: [18, 18] };
    t.same(
      encodeOpen(split),
      hex(
        `${FIXED} ff ff ${u16(2 * (3 + 126))} 02 007e ${one.repeat(18)} 02 007e ${one.repeat(18)}`,
      ),
    );
  },
);

t.test('an OPEN over 4096 octets is refused by the encoder (RFC 8654 §4)', async (t) => {
  const msg: OpenMessage = {
    type: 'open',
    version: 4,
    myAs: 65001,
    holdTime: 90,
    routerId: '192.0.2.1',
    capabilities: Array.from({ length: 20 }, () => ({
      name: 'unknown' as const,
      code: 200,
      value: Buffer.alloc(250),
    })),
  };
  t.throws(() => encodeOpen(msg), RangeError);
});

t.test('RFC 4271 §6.2 checks', async (t) => {
  const withFixed = (fixed: string): Buffer => hex(`${fixed} 00`);
  const cases: [string, Buffer, number, Buffer?][] = [
    // Version 3: Unsupported Version Number, data = our version (2 octets).
    ['version 3', withFixed('03 fde9 005a c0000201'), 1, hex('0004')],
    ['version 5', withFixed('05 fde9 005a c0000201'), 1, hex('0004')],
    // RFC 7607 §2: AS 0 -> Bad Peer AS.
    ['My AS 0', withFixed('04 0000 005a c0000201'), 2],
    ['4-octet AS 0', hex(`${FIXED} 08 02 06 41 04 00000000`), 2],
    // Hold Time 1 or 2: Unacceptable Hold Time.
    ['hold time 1', withFixed('04 fde9 0001 c0000201'), 6],
    ['hold time 2', withFixed('04 fde9 0002 c0000201'), 6],
    // BGP Identifier 0, multicast, broadcast: Bad BGP Identifier.
    ['identifier 0.0.0.0', withFixed('04 fde9 005a 00000000'), 3],
    ['identifier 224.0.0.5', withFixed('04 fde9 005a e0000005'), 3],
    ['identifier 239.255.255.255', withFixed('04 fde9 005a efffffff'), 3],
    ['identifier 255.255.255.255', withFixed('04 fde9 005a ffffffff'), 3],
    // An optional parameter other than Capabilities (type 1, deprecated authentication).
    ['parameter type 1', hex(`${FIXED} 04 01 02 aabb`), 4],
    // Malformed parameters: recognized but malformed -> 0 (Unspecific).
    ['opt len says 10, 8 follow', hex(`${FIXED} 0a 02 06 01 04 0001 00 01`), 0],
    ['opt len says 6, 8 follow', hex(`${FIXED} 06 02 06 01 04 0001 00 01`), 0],
    ['parameter overruns', hex(`${FIXED} 08 02 07 01 04 0001 00 01`), 0],
    ['parameter header truncated', hex(`${FIXED} 09 02 06 01 04 0001 00 01 02`), 0],
    ['empty list with trailing octets', hex(`${FIXED} 00 02 00`), 0],
    ['extended length header truncated', hex(`${FIXED} ff ff 00`), 0],
    ['extended length too long', hex(`${FIXED} ff ff 0012 02 000e ${CAPS}`), 0],
    ['extended length too short', hex(`${FIXED} ff ff 0010 02 000e ${CAPS}`), 0],
    ['extended parameter overruns', hex(`${FIXED} ff ff 0005 02 0004 0200`), 0],
    ['bad capability length inside', hex(`${FIXED} 05 02 03 02 01 00`), 0],
  ];
  for (const [what, body, subcode, data] of cases) {
    const err = catchBgpError(() => decodeOpen(body));
    t.equal(err.notification.code, 2, what);
    t.equal(err.notification.subcode, subcode, what);
    t.equal(err.handling, 'session-reset', what);
    if (data) t.same(err.notification.data, data, `${what}: data`);
  }
});

t.test('acceptable values pass', async (t) => {
  // Hold time 0 and 3, identifier 1.2.3.4 and 223.255.255.255, 4-octet AS with AS_TRANS.
  for (const fixed of ['04 fde9 0000 01020304', '04 fde9 0003 dfffffff', '04 5ba0 ffff 0a000001']) {
    t.doesNotThrow(() => decodeOpen(hex(`${fixed} 00`)), fixed);
  }
});

t.test('version is checked before the parameters are parsed', async (t) => {
  // Version 3 with garbage parameters still reports Unsupported Version Number.
  const err = catchBgpError(() => decodeOpen(hex('03 fde9 005a c0000201 09 ff')));
  t.equal(err.notification.subcode, 1);
});

t.test('parseOpen reads fields without the value checks', async (t) => {
  const msg = parseOpen(hex('04 fde9 0001 00000000 00'));
  t.equal(msg.holdTime, 1);
  t.equal(msg.routerId, '0.0.0.0');
});

t.test('a body shorter than 10 octets -> Message Header Error / Bad Message Length', async (t) => {
  const err = catchBgpError(() => decodeOpen(hex('04 fde9 005a c00002')));
  t.equal(err.notification.code, 1);
  t.equal(err.notification.subcode, 2);
  t.same(err.notification.data, hex(u16(19 + 8)));
});
