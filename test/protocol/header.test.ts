// Tests for protocol/header.ts: the RFC 4271 §6.1 header checks, each with its exact code,
// subcode and data, and the header encoder against hand-built bytes.

import t from 'tap';
import { decodeHeader, encodeHeader, messageTypeName } from '../../protocol/header.js';
import { catchBgpError, hex, MARKER_HEX, message, u16 } from './hand-bytes.js';

/** A header only (no body), with any length and type. */
function header(length: number, type: number, marker = MARKER_HEX): Buffer {
  return hex(marker + u16(length) + type.toString(16).padStart(2, '0'));
}

t.test('valid headers of every type at their minimum length', async (t) => {
  // RFC 4271 §4.2/§4.3/§4.4/§4.5 and RFC 2918 §3: OPEN 29, UPDATE 23, KEEPALIVE 19,
  // NOTIFICATION 21, ROUTE-REFRESH 23.
  const cases: [number, number, string][] = [
    [1, 29, 'open'],
    [2, 23, 'update'],
    [3, 21, 'notification'],
    [4, 19, 'keepalive'],
    [5, 23, 'route-refresh'],
  ];
  for (const [type, length, name] of cases) {
    const buf = Buffer.concat([header(length, type), Buffer.alloc(length - 19)]);
    const d = decodeHeader(buf, 0);
    t.same(d, { value: { length, type }, bytesRead: 19 }, name);
    t.equal(messageTypeName(type), name);
  }
  t.equal(messageTypeName(9), undefined);
});

t.test('decodes at an offset', async (t) => {
  const buf = Buffer.concat([hex('0102030405'), message(4)]);
  t.same(decodeHeader(buf, 5).value, { length: 19, type: 4 });
});

t.test('marker not all ones -> 1/1 Connection Not Synchronized', async (t) => {
  for (let i = 0; i < 16; i++) {
    const buf = header(19, 4);
    buf[i] = 0xfe;
    const err = catchBgpError(() => decodeHeader(buf, 0));
    t.equal(err.notification.code, 1, `octet ${i}`);
    t.equal(err.notification.subcode, 1, `octet ${i}`);
    t.equal(err.handling, 'session-reset');
  }
  const zeros = header(19, 4, '00'.repeat(16));
  t.equal(catchBgpError(() => decodeHeader(zeros, 0)).notification.subcode, 1);
});

t.test('length below 19 or above the maximum -> 1/2 with the Length field as data', async (t) => {
  for (const length of [0, 1, 18]) {
    const err = catchBgpError(() => decodeHeader(header(length, 4), 0));
    t.equal(err.notification.code, 1);
    t.equal(err.notification.subcode, 2);
    t.same(err.notification.data, hex(u16(length)), `length ${length}`);
  }
  // RFC 4271 §4.1: 4096 is the maximum without RFC 8654.
  const big = Buffer.concat([header(4097, 2), Buffer.alloc(4097 - 19)]);
  const err = catchBgpError(() => decodeHeader(big, 0, 4096));
  t.equal(err.notification.code, 1);
  t.equal(err.notification.subcode, 2);
  t.same(err.notification.data, hex('1001'));
  // RFC 8654 §4: an UPDATE may reach 65535 when Extended Message is negotiated.
  t.same(decodeHeader(big, 0, 65535).value, { length: 4097, type: 2 });
  const max = Buffer.concat([header(4096, 2), Buffer.alloc(4096 - 19)]);
  t.same(decodeHeader(max, 0).value, { length: 4096, type: 2 });
});

t.test('unknown type -> 1/3 with the Type field as data', async (t) => {
  for (const type of [0, 6, 7, 128, 255]) {
    const buf = Buffer.concat([header(23, type), Buffer.alloc(4)]);
    const err = catchBgpError(() => decodeHeader(buf, 0));
    t.equal(err.notification.code, 1, `type ${type}`);
    t.equal(err.notification.subcode, 3, `type ${type}`);
    t.same(err.notification.data, Buffer.from([type]));
  }
});

t.test('per-type length bounds -> 1/2 Bad Message Length', async (t) => {
  const cases: [string, number, number, number][] = [
    // [what, type, length, max]
    ['OPEN shorter than 29', 1, 28, 4096],
    ['OPEN longer than 4096 even with extended message (RFC 8654 §4)', 1, 4097, 65535],
    ['UPDATE shorter than 23', 2, 22, 4096],
    ['NOTIFICATION shorter than 21', 3, 20, 4096],
    ['KEEPALIVE longer than 19', 4, 20, 4096],
    ['KEEPALIVE of 23', 4, 23, 4096],
    ['ROUTE-REFRESH shorter than 23', 5, 22, 4096],
  ];
  for (const [what, type, length, max] of cases) {
    const buf = Buffer.concat([header(length, type), Buffer.alloc(Math.max(0, length - 19))]);
    const err = catchBgpError(() => decodeHeader(buf, 0, max));
    t.equal(err.notification.code, 1, what);
    t.equal(err.notification.subcode, 2, what);
    t.same(err.notification.data, hex(u16(length)), what);
  }
});

t.test('fewer than 19 octets -> 1/2', async (t) => {
  const err = catchBgpError(() => decodeHeader(hex(MARKER_HEX + '00'), 0));
  t.equal(err.notification.code, 1);
  t.equal(err.notification.subcode, 2);
});

t.test('encodeHeader writes marker, length and type', async (t) => {
  t.same(encodeHeader({ length: 23, type: 5 }), hex(MARKER_HEX + '0017 05'));
  t.same(encodeHeader({ length: 65535, type: 2 }), hex(MARKER_HEX + 'ffff 02'));
});
