// Tests for protocol/notification.ts: NOTIFICATION bodies from RFC 4271 §4.5, the names table
// against the IANA registry text, and the RFC 8203/9003 shutdown communication, including the
// malformed ones a decoder must tolerate.

import t from 'tap';
import {
  decodeNotification,
  decodeShutdownCommunication,
  encodeNotification,
  encodeShutdownCommunication,
  notificationFromError,
  notificationName,
} from '../../protocol/notification.js';
import { BgpError } from '../../protocol/errors.js';
import { catchBgpError, hex, textHex } from './hand-bytes.js';

t.test('code, subcode and data', async (t) => {
  // UPDATE Message Error / Malformed AS_PATH with 4 octets of data.
  const body = hex('03 0b 40020400');
  const msg = decodeNotification(body);
  t.same(msg, { type: 'notification', code: 3, subcode: 11, data: hex('40020400') });
  t.same(encodeNotification(msg), body);
  // Hold Timer Expired with no data.
  t.same(decodeNotification(hex('04 00')), {
    type: 'notification',
    code: 4,
    subcode: 0,
    data: Buffer.alloc(0),
  });
});

t.test('a body under 2 octets -> 1/2', async (t) => {
  const err = catchBgpError(() => decodeNotification(hex('06')));
  t.equal(err.notification.code, 1);
  t.equal(err.notification.subcode, 2);
  t.same(err.notification.data, hex('0014'));
});

t.test('RFC 9003 shutdown communication on Cease 2 and 4', async (t) => {
  const text = 'maintenance, back at 14:00';
  const data = `${text.length.toString(16).padStart(2, '0')} ${textHex(text)}`;
  for (const subcode of [2, 4]) {
    const body = hex(`06 0${subcode} ${data}`);
    const msg = decodeNotification(body);
    t.equal(msg.message, text, `subcode ${subcode}`);
    t.same(msg.data, hex(data));
    t.same(encodeNotification(msg), body);
  }
  // Not on other Cease subcodes.
  t.equal(decodeNotification(hex(`06 03 ${data}`)).message, undefined);
  t.equal(decodeNotification(hex(`02 02 ${data}`)).message, undefined);
});

t.test('255-octet UTF-8 communication', async (t) => {
  // 85 three-octet characters (€ = e2 82 ac) = 255 octets.
  const text = '€'.repeat(85);
  const body = hex(`06 02 ff ${'e282ac'.repeat(85)}`);
  t.equal(decodeNotification(body).message, text);
});

t.test('malformed communications are tolerated, not shown', async (t) => {
  const cases: [string, string][] = [
    ['length past the data', `06 02 14 ${textHex('short')}`],
    ['invalid UTF-8', '06 02 02 c328'],
    ['truncated UTF-8 sequence', '06 04 02 e282'],
    ['length zero', '06 02 00'],
    ['no data', '06 02'],
  ];
  for (const [what, bytes] of cases) {
    const msg = decodeNotification(hex(bytes));
    t.equal(msg.message, undefined, what);
    t.equal(msg.code, 6, what);
  }
  // Octets after the communication do not stop it from being read.
  t.equal(decodeShutdownCommunication(hex(`02 ${textHex('ok')} 00ff`)), 'ok');
});

t.test('encoding a message builds the length octet and UTF-8', async (t) => {
  t.same(
    encodeNotification({
      type: 'notification',
      code: 6,
      subcode: 2,
      data: Buffer.alloc(0),
      message: 'bye',
    }),
    hex(`06 02 03 ${textHex('bye')}`),
  );
  // Data, when given, is sent as is.
  t.same(
    encodeNotification({
      type: 'notification',
      code: 6,
      subcode: 2,
      data: hex('00'),
      message: 'x',
    }),
    hex('06 02 00'),
  );
  // No communication on a subcode that does not carry one.
  t.same(
    encodeNotification({
      type: 'notification',
      code: 6,
      subcode: 3,
      data: Buffer.alloc(0),
      message: 'x',
    }),
    hex('06 03'),
  );
});

t.test('a long communication is cut to 255 octets on a character boundary', async (t) => {
  const ascii = encodeShutdownCommunication('a'.repeat(300));
  t.equal(ascii[0], 255);
  t.equal(ascii.length, 256);
  // 100 x "€" = 300 octets: 85 whole characters (255 octets) fit.
  const euro = encodeShutdownCommunication('€'.repeat(100));
  t.same(euro, hex(`ff ${'e282ac'.repeat(85)}`));
  // "a" + 127 x "é" (c3 a9) = 255 octets exactly; one more "é" must be dropped whole.
  const mixed = encodeShutdownCommunication('a' + 'é'.repeat(128));
  t.same(mixed, hex(`ff 61 ${'c3a9'.repeat(127)}`));
  t.same(encodeShutdownCommunication(''), Buffer.alloc(0));
});

t.test('names of codes and subcodes (IANA BGP Error Codes and Subcodes)', async (t) => {
  const expected: [number, number, string][] = [
    [1, 1, 'Message Header Error / Connection Not Synchronized'],
    [1, 2, 'Message Header Error / Bad Message Length'],
    [1, 3, 'Message Header Error / Bad Message Type'],
    [2, 0, 'OPEN Message Error / Unspecific'],
    [2, 1, 'OPEN Message Error / Unsupported Version Number'],
    [2, 2, 'OPEN Message Error / Bad Peer AS'],
    [2, 3, 'OPEN Message Error / Bad BGP Identifier'],
    [2, 4, 'OPEN Message Error / Unsupported Optional Parameter'],
    [2, 6, 'OPEN Message Error / Unacceptable Hold Time'],
    [2, 7, 'OPEN Message Error / Unsupported Capability'],
    [2, 11, 'OPEN Message Error / Role Mismatch'],
    [3, 1, 'UPDATE Message Error / Malformed Attribute List'],
    [3, 2, 'UPDATE Message Error / Unrecognized Well-known Attribute'],
    [3, 3, 'UPDATE Message Error / Missing Well-known Attribute'],
    [3, 4, 'UPDATE Message Error / Attribute Flags Error'],
    [3, 5, 'UPDATE Message Error / Attribute Length Error'],
    [3, 6, 'UPDATE Message Error / Invalid ORIGIN Attribute'],
    [3, 8, 'UPDATE Message Error / Invalid NEXT_HOP Attribute'],
    [3, 9, 'UPDATE Message Error / Optional Attribute Error'],
    [3, 10, 'UPDATE Message Error / Invalid Network Field'],
    [3, 11, 'UPDATE Message Error / Malformed AS_PATH'],
    [4, 0, 'Hold Timer Expired'],
    [5, 0, 'Finite State Machine Error / Unspecific'],
    [5, 1, 'Finite State Machine Error / Receive Unexpected Message in OpenSent State'],
    [5, 2, 'Finite State Machine Error / Receive Unexpected Message in OpenConfirm State'],
    [5, 3, 'Finite State Machine Error / Receive Unexpected Message in Established State'],
    [6, 1, 'Cease / Maximum Number of Prefixes Reached'],
    [6, 2, 'Cease / Administrative Shutdown'],
    [6, 3, 'Cease / Peer De-configured'],
    [6, 4, 'Cease / Administrative Reset'],
    [6, 5, 'Cease / Connection Rejected'],
    [6, 6, 'Cease / Other Configuration Change'],
    [6, 7, 'Cease / Connection Collision Resolution'],
    [6, 8, 'Cease / Out of Resources'],
    [6, 9, 'Cease / Hard Reset'],
    [6, 10, 'Cease / BFD Down'],
    [7, 1, 'ROUTE-REFRESH Message Error / Invalid Message Length'],
    [8, 0, 'Send Hold Timer Expired'],
    [6, 99, 'Cease / Unknown subcode 99'],
    [42, 1, 'Unknown error code 42 / Unknown subcode 1'],
  ];
  for (const [code, subcode, name] of expected) t.equal(notificationName(code, subcode), name);
});

t.test('notificationFromError carries the error notification', async (t) => {
  const err = new BgpError('ERR_BGP_OPEN', 'x', { code: 2, subcode: 6, data: hex('aa') });
  t.same(notificationFromError(err), {
    type: 'notification',
    code: 2,
    subcode: 6,
    data: hex('aa'),
  });
});

t.test(
  'RFC 8538 §3: a Hard Reset shows the NOTIFICATION it encapsulates and its message',
  async (t) => {
    // Cease (6) / Hard Reset (9), data: the encapsulated ErrCode 6, Subcode 2 (Administrative
    // Shutdown), then its data: the RFC 9003 length octet and "bye".
    const msg = decodeNotification(Buffer.from([6, 9, 6, 2, 3, 0x62, 0x79, 0x65]));
    t.same(msg.hardReset, { code: 6, subcode: 2 });
    t.equal(msg.message, 'bye');
    const plain = decodeNotification(Buffer.from([6, 9]));
    t.equal(plain.hardReset, undefined, 'an empty Hard Reset encapsulates nothing');
    const maxPrefix = decodeNotification(Buffer.from([6, 9, 6, 1, 0, 1, 1, 0, 0, 0, 10]));
    t.same(maxPrefix.hardReset, { code: 6, subcode: 1 });
    t.equal(maxPrefix.message, undefined, 'Maximum Prefixes carries no text');
  },
);
