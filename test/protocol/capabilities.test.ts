// Tests for protocol/capabilities.ts: every capability of issue #2 decoded from bytes laid out
// by hand from its RFC, encoded back to the same bytes, and every bad length rejected with
// OPEN Message Error / Unspecific (RFC 4271 §6.2: a recognized parameter that is malformed).

import t from 'tap';
import {
  capabilityName,
  decodeCapabilities,
  encodeCapabilities,
} from '../../protocol/capabilities.js';
import type { Capability } from '../../protocol/types.js';
import { catchBgpError, hex, textHex } from './hand-bytes.js';

const cases: [string, string, Capability][] = [
  // RFC 4760 §8: code 1, length 4, AFI 2 (IPv6), reserved 0, SAFI 1.
  [
    'multiprotocol ipv6 unicast',
    '01 04 0002 00 01',
    { name: 'multiprotocol', code: 1, afi: 2, safi: 1 },
  ],
  // RFC 2918 §2: code 2, length 0; the pre-standard code 128 as well.
  ['route refresh', '02 00', { name: 'route-refresh', code: 2 }],
  ['route refresh (Cisco 128)', '80 00', { name: 'route-refresh', code: 128 }],
  // RFC 8950 §3: (AFI 1, SAFI 1, next-hop AFI 2) twice.
  [
    'extended next hop',
    '05 0c 0001 0001 0002 0001 0080 0002',
    {
      name: 'extended-next-hop',
      code: 5,
      entries: [
        { afi: 1, safi: 1, nextHopAfi: 2 },
        { afi: 1, safi: 128, nextHopAfi: 2 },
      ],
    },
  ],
  // RFC 8654 §3: code 6, length 0.
  ['extended message', '06 00', { name: 'extended-message', code: 6 }],
  // RFC 4724 §3: R bit (0x8000) + restart time 120 (0x078); IPv4 unicast with F bit 0x80,
  // IPv6 unicast without.
  [
    'graceful restart, restarting',
    '40 0a 8078 0001 01 80 0002 01 00',
    {
      name: 'graceful-restart',
      code: 64,
      restarting: true,
      notification: false,
      restartTime: 120,
      families: [
        { afi: 1, safi: 1, forwarding: true },
        { afi: 2, safi: 1, forwarding: false },
      ],
    },
  ],
  // RFC 8538 §2: N bit (0x4000), restart time 4095 (the 12-bit maximum), no families.
  [
    'graceful restart, N bit, no families',
    '40 02 4fff',
    {
      name: 'graceful-restart',
      code: 64,
      restarting: false,
      notification: true,
      restartTime: 4095,
      families: [],
    },
  ],
  // RFC 6793 §3: AS 4200000001 = 0xfa56ea01.
  ['four-octet AS', '41 04 fa56ea01', { name: 'four-octet-as', code: 65, asn: 4200000001 }],
  // RFC 7911 §4: IPv4 unicast receive (1), IPv6 unicast both (3), IPv4 unicast send (2).
  [
    'add-path',
    '45 0c 0001 01 01 0002 01 03 0001 01 02',
    {
      name: 'add-path',
      code: 69,
      families: [
        { afi: 1, safi: 1, mode: 'receive' },
        { afi: 2, safi: 1, mode: 'both' },
        { afi: 1, safi: 1, mode: 'send' },
      ],
    },
  ],
  // RFC 7313 §4: code 70, length 0.
  ['enhanced route refresh', '46 00', { name: 'enhanced-route-refresh', code: 70 }],
  // RFC 9494 §2: IPv4 unicast, F bit, stale time 3600 (0x000e10); IPv6 unicast, no F, 16777215.
  [
    'long-lived graceful restart',
    '47 0e 0001 01 80 000e10 0002 01 00 ffffff',
    {
      name: 'long-lived-graceful-restart',
      code: 71,
      families: [
        { afi: 1, safi: 1, forwarding: true, staleTime: 3600 },
        { afi: 2, safi: 1, forwarding: false, staleTime: 16777215 },
      ],
    },
  ],
  // draft-walton-bgp-hostname-capability: length 18 = 1 + 5 + 1 + 11.
  [
    'fqdn',
    `49 12 05 ${textHex('node1')} 0b ${textHex('example.com')}`,
    { name: 'fqdn', code: 73, hostname: 'node1', domain: 'example.com' },
  ],
  [
    'fqdn with an empty domain',
    `49 04 02 ${textHex('n1')} 00`,
    { name: 'fqdn', code: 73, hostname: 'n1', domain: '' },
  ],
  // RFC 5492 §3: unknown capabilities kept raw.
  ['unknown', '83 03 aabbcc', { name: 'unknown', code: 131, value: hex('aabbcc') }],
  ['unknown, empty', 'ef 00', { name: 'unknown', code: 239, value: Buffer.alloc(0) }],
];

t.test('each capability decodes from its RFC layout and encodes back byte for byte', async (t) => {
  for (const [what, bytes, expected] of cases) {
    const decoded = decodeCapabilities(hex(bytes));
    t.same(decoded, [expected], what);
    t.same(encodeCapabilities([expected]), hex(bytes), `${what} (encode)`);
  }
});

t.test('several capabilities in one parameter keep their order', async (t) => {
  const bytes = hex('01 04 0001 00 01  02 00  41 04 0000fde9  46 00');
  const caps = decodeCapabilities(bytes);
  t.same(
    caps.map((c) => c.name),
    ['multiprotocol', 'route-refresh', 'four-octet-as', 'enhanced-route-refresh'],
  );
  t.same(encodeCapabilities(caps), bytes);
});

t.test('add-path tuples with an undefined Send/Receive value are skipped', async (t) => {
  // RFC 7911 §4 defines 1, 2 and 3 only.
  const caps = decodeCapabilities(hex('45 08 0001 01 00 0002 01 01'));
  t.same(caps, [{ name: 'add-path', code: 69, families: [{ afi: 2, safi: 1, mode: 'receive' }] }]);
});

t.test('graceful restart ignores the reserved flag bits', async (t) => {
  // RFC 4724 §3: bits other than R (and RFC 8538's N) are reserved; F is 0x80 per family.
  const [gr] = decodeCapabilities(hex('40 06 3000 0001 01 7f'));
  t.same(gr, {
    name: 'graceful-restart',
    code: 64,
    restarting: false,
    notification: false,
    restartTime: 0,
    families: [{ afi: 1, safi: 1, forwarding: false }],
  });
});

t.test('a capability with a bad length -> OPEN Message Error / 0 (Unspecific)', async (t) => {
  const bad: [string, string][] = [
    ['multiprotocol of 3', '01 03 000101'],
    ['multiprotocol of 5', '01 05 0001000100'],
    ['route refresh of 1', '02 01 00'],
    ['cisco route refresh of 1', '80 01 00'],
    ['extended next hop of 0', '05 00'],
    ['extended next hop of 5', '05 05 0001000100'],
    ['extended message of 1', '06 01 00'],
    ['graceful restart of 0', '40 00'],
    ['graceful restart of 1', '40 01 00'],
    ['graceful restart of 5', '40 05 0078000101'],
    ['four-octet AS of 2', '41 02 fde9'],
    ['four-octet AS of 5', '41 05 00fde90000'],
    ['add-path of 0', '45 00'],
    ['add-path of 3', '45 03 000101'],
    ['enhanced route refresh of 1', '46 01 00'],
    ['llgr of 6', '47 06 000101800000'],
    ['fqdn of 0', '49 00'],
    ['fqdn of 1', '49 01 00'],
    ['fqdn hostname overruns', `49 03 05 ${textHex('ab')}`],
    ['fqdn domain short', `49 05 01 ${textHex('a')} 05 ${textHex('bc')}`],
    ['fqdn trailing octet', `49 05 01 ${textHex('a')} 01 ${textHex('b')} 00`],
    ['length overruns the parameter', '41 04 0000fd'],
    ['header truncated', '02 00 41'],
  ];
  for (const [what, bytes] of bad) {
    const err = catchBgpError(() => decodeCapabilities(hex(bytes)));
    t.equal(err.notification.code, 2, what);
    t.equal(err.notification.subcode, 0, what);
    t.equal(err.handling, 'session-reset', what);
  }
  // The data is the offending capability as received.
  const err = catchBgpError(() => decodeCapabilities(hex('02 00 01 03 000101')));
  t.same(err.notification.data, hex('01 03 000101'));
});

t.test('capability names', async (t) => {
  t.equal(capabilityName(1), 'multiprotocol');
  t.equal(capabilityName(128), 'route-refresh');
  t.equal(capabilityName(73), 'fqdn');
  t.equal(capabilityName(200), 'unknown');
});

t.test('fqdn with UTF-8 text encodes the octet lengths', async (t) => {
  const cap: Capability = { name: 'fqdn', code: 73, hostname: 'nœud', domain: '' };
  // "nœud" is 5 octets in UTF-8 (œ is c5 93): length 1 + 5 + 1 + 0 = 7.
  t.same(encodeCapabilities([cap]), hex('49 07 05 6ec59375 64 00'));
  t.same(decodeCapabilities(hex('49 07 05 6ec59375 64 00')), [cap]);
});

t.test('encoder refuses a capability value over 255 octets', async (t) => {
  const cap: Capability = { name: 'unknown', code: 200, value: Buffer.alloc(256) };
  t.throws(() => encodeCapabilities([cap]), RangeError);
});
