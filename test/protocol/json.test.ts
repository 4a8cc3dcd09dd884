// Tests for protocol/json.ts: the documented JSON shape of each capability and message, and
// describeMessage on malformed messages (partial fields, hex, error with the exact codes).

import t from 'tap';
import {
  capabilityToJson,
  describeMessage,
  familyName,
  messageToJson,
} from '../../protocol/json.js';
import { hex, message, textHex } from './hand-bytes.js';

t.test('family names', async (t) => {
  t.equal(familyName(1, 1), 'ipv4-unicast');
  t.equal(familyName(2, 1), 'ipv6-unicast');
  t.equal(familyName(25, 70), 'l2vpn-evpn');
  t.equal(familyName(1, 128), 'ipv4-vpn');
  t.equal(familyName(16388, 71), 'afi-16388/safi-71');
});

t.test('capability JSON: code, name and fields', async (t) => {
  t.same(capabilityToJson({ name: 'route-refresh', code: 128 }), {
    code: 128,
    name: 'route-refresh-cisco',
  });
  t.same(
    capabilityToJson({
      name: 'extended-next-hop',
      code: 5,
      entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }],
    }),
    {
      code: 5,
      name: 'extended-next-hop',
      entries: [{ afi: 1, safi: 1, family: 'ipv4-unicast', nextHopAfi: 2 }],
    },
  );
  t.same(
    capabilityToJson({
      name: 'long-lived-graceful-restart',
      code: 71,
      families: [{ afi: 2, safi: 1, forwarding: true, staleTime: 86400 }],
    }),
    {
      code: 71,
      name: 'long-lived-graceful-restart',
      families: [{ afi: 2, safi: 1, family: 'ipv6-unicast', forwarding: true, staleTime: 86400 }],
    },
  );
  t.same(capabilityToJson({ name: 'extended-message', code: 6 }), {
    code: 6,
    name: 'extended-message',
  });
  t.same(capabilityToJson({ name: 'enhanced-route-refresh', code: 70 }), {
    code: 70,
    name: 'enhanced-route-refresh',
  });
  t.same(capabilityToJson({ name: 'unknown', code: 131, value: hex('0a0b') }), {
    code: 131,
    name: 'unknown',
    hex: '0a0b',
  });
});

t.test('OPEN JSON: asn is My AS without the 4-octet AS capability', async (t) => {
  const json = messageToJson({
    type: 'open',
    version: 4,
    myAs: 65001,
    holdTime: 0,
    routerId: '10.0.0.1',
    capabilities: [],
    extendedOptParams: true,
  });
  t.same(json, {
    type: 'open',
    version: 4,
    myAs: 65001,
    asn: 65001,
    holdTime: 0,
    routerId: '10.0.0.1',
    capabilities: [],
    extendedOptParams: true,
  });
});

t.test('NOTIFICATION JSON without a shutdown communication', async (t) => {
  t.same(messageToJson({ type: 'notification', code: 4, subcode: 0, data: Buffer.alloc(0) }), {
    type: 'notification',
    code: 4,
    subcode: 0,
    name: 'Hold Timer Expired',
    data: '',
  });
});

t.test('describeMessage: a valid message is its JSON', async (t) => {
  t.same(describeMessage(message(4)), { type: 'keepalive' });
  t.same(describeMessage(message(3, `06 04 02 ${textHex('ok')}`)), {
    type: 'notification',
    code: 6,
    subcode: 4,
    name: 'Cease / Administrative Reset',
    data: `02${textHex('ok')}`,
    message: 'ok',
  });
});

t.test('describeMessage: an OPEN with a malformed capability keeps its fixed fields', async (t) => {
  // Multiprotocol with length 3: RFC 4271 §6.2 OPEN Message Error / Unspecific.
  const frame = message(1, '04 fde9 005a 0a000001 07 02 05 01 03 000101');
  t.same(describeMessage(frame), {
    type: 'open',
    length: frame.length,
    version: 4,
    myAs: 65001,
    holdTime: 90,
    routerId: '10.0.0.1',
    hex: frame.toString('hex'),
    error: {
      action: 'session-reset',
      code: 2,
      subcode: 0,
      reason: 'capability 1 (multiprotocol): length 3, expected 4',
    },
  });
});

t.test('describeMessage: a KEEPALIVE with a body and a short UPDATE', async (t) => {
  const ka = describeMessage(message(4, '00'));
  t.match(ka, { type: 'keepalive', length: 20, error: { code: 1, subcode: 2 } });
  // RFC 4271 §6.3: a Withdrawn Routes Length that overruns the message resets the session.
  const up = describeMessage(message(2, '00ff 0000'));
  t.match(up, { type: 'update', length: 23, error: { action: 'session-reset', code: 3 } });
  t.type(up.hex, 'string');
});
