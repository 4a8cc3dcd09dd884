// Tests for protocol/message.ts: whole messages of every type built by hand and decoded,
// fast-check round trips of random valid messages (>= 20,000 runs), and a fuzz of random and
// mutated bytes (>= 40,000 runs) that must yield only BgpError, never another exception.

import { deepStrictEqual, equal, ok } from 'node:assert/strict';
import fc from 'fast-check';
import t from 'tap';
import { AsPath } from '../../protocol/as-path.js';
import { BgpError } from '../../protocol/errors.js';
import { describeMessage } from '../../protocol/json.js';
import { decodeMessage, encodedLengthMessage, encodeMessage } from '../../protocol/message.js';
import { formatIpv4, prefixListFromStrings, prefixListToStrings } from '../../protocol/prefix.js';
import type {
  BgpMessage,
  Capability,
  CodecContext,
  NotificationMessage,
  OpenMessage,
  RouteRefreshMessage,
  UpdateMessage,
} from '../../protocol/types.js';
import { DEFAULT_CONTEXT } from '../../protocol/types.js';
import { catchBgpError, hex, message, textHex } from './hand-bytes.js';

const CTX: CodecContext = DEFAULT_CONTEXT;

t.test('each message type decodes from hand-built bytes', async (t) => {
  const open = message(1, '04 fde9 00b4 0a000001 08 02 06 41 04 fa56ea01');
  t.same(decodeMessage(open, 0, CTX), {
    value: {
      type: 'open',
      version: 4,
      myAs: 65001,
      holdTime: 180,
      routerId: '10.0.0.1',
      capabilities: [{ name: 'four-octet-as', code: 65, asn: 4200000001 }],
    },
    bytesRead: 29 + 8,
  });
  t.same(decodeMessage(message(4), 0, CTX), { value: { type: 'keepalive' }, bytesRead: 19 });
  const notification = decodeMessage(message(3, `06 02 02 ${textHex('hi')}`), 0, CTX).value;
  t.same(notification, {
    type: 'notification',
    code: 6,
    subcode: 2,
    data: hex(`02 ${textHex('hi')}`),
    message: 'hi',
  });
  t.same(decodeMessage(message(5, '0002 01 01'), 0, CTX).value, {
    type: 'route-refresh',
    afi: 2,
    safi: 1,
    subtype: 1,
  });
  // RFC 4724 §2: the empty UPDATE (withdrawn length 0, attribute length 0) is IPv4 End-of-RIB.
  const eor = decodeMessage(message(2, '0000 0000'), 0, CTX).value as UpdateMessage;
  t.equal(eor.type, 'update');
  t.equal(eor.endOfRib, 'ipv4-unicast');
  // An UPDATE announcing 10.0.0.0/8 with ORIGIN IGP, AS_PATH [65001], NEXT_HOP 192.0.2.1.
  const update = message(
    2,
    '0000 0014 40 01 01 00  40 02 06 02 01 0000fde9  40 03 04 c0000201  08 0a',
  );
  const u = decodeMessage(update, 0, CTX).value as UpdateMessage;
  t.same(prefixListToStrings(u.nlri), ['10.0.0.0/8']);
  t.equal(u.attributes.origin, 0);
  t.same(u.attributes.asPath?.segments, [{ type: 2, asns: [65001] }]);
  t.equal(u.attributes.nextHop, '192.0.2.1');
});

t.test('decodes back to back at an offset', async (t) => {
  const buf = Buffer.concat([message(4), message(5, '0001 00 01'), message(4)]);
  const first = decodeMessage(buf, 0, CTX);
  const second = decodeMessage(buf, first.bytesRead, CTX);
  t.equal(second.value.type, 'route-refresh');
  t.equal(second.bytesRead, 23);
  t.equal(decodeMessage(buf, 42, CTX).value.type, 'keepalive');
});

t.test('header errors come before body errors, with exact codes', async (t) => {
  // Bad type.
  let err = catchBgpError(() => decodeMessage(message(9, '00'), 0, CTX));
  t.same([err.notification.code, err.notification.subcode], [1, 3]);
  // KEEPALIVE with a body.
  err = catchBgpError(() => decodeMessage(message(4, '00'), 0, CTX));
  t.same([err.notification.code, err.notification.subcode], [1, 2]);
  // A length field larger than the buffer.
  const cut = message(5, '0001 00 01').subarray(0, 21);
  err = catchBgpError(() => decodeMessage(cut, 0, CTX));
  t.same([err.notification.code, err.notification.subcode], [1, 2]);
  // ROUTE-REFRESH BoRR of 24 octets: RFC 7313 §5.
  err = catchBgpError(() => decodeMessage(message(5, '0001 01 01 00'), 0, CTX));
  t.same([err.notification.code, err.notification.subcode], [7, 1]);
  t.same(err.notification.data, message(5, '0001 01 01 00'));
  // OPEN with hold time 2.
  err = catchBgpError(() => decodeMessage(message(1, '04 fde9 0002 0a000001 00'), 0, CTX));
  t.same([err.notification.code, err.notification.subcode], [2, 6]);
  // An UPDATE over 4096 octets without RFC 8654, accepted with it.
  const big = message(2, Buffer.concat([hex('0000 0000'), Buffer.alloc(4097 - 23)]));
  err = catchBgpError(() => decodeMessage(big, 0, CTX));
  t.same([err.notification.code, err.notification.subcode], [1, 2]);
  // (Its body is 4078 zero octets of NLRI: 0.0.0.0/0 repeated, which is valid.)
  t.equal(decodeMessage(big, 0, { ...CTX, extendedMessage: true }).bytesRead, 4097);
});

t.test('encodeMessage writes the header around each body', async (t) => {
  t.same(encodeMessage({ type: 'keepalive' }), message(4));
  t.same(
    encodeMessage({ type: 'route-refresh', afi: 2, safi: 1, subtype: 2 }),
    message(5, '0002 02 01'),
  );
  t.same(
    encodeMessage({
      type: 'notification',
      code: 6,
      subcode: 4,
      data: Buffer.alloc(0),
      message: 'hi',
    }),
    message(3, `06 04 02 ${textHex('hi')}`),
  );
  const open: OpenMessage = {
    type: 'open',
    version: 4,
    myAs: 23456,
    holdTime: 90,
    routerId: '10.0.0.1',
    capabilities: [{ name: 'four-octet-as', code: 65, asn: 4200000001 }],
  };
  t.same(encodeMessage(open), message(1, '04 5ba0 005a 0a000001 08 02 06 41 04 fa56ea01'));
  t.equal(encodedLengthMessage(open), 37);
  t.same(
    encodeMessage({
      type: 'update',
      withdrawn: prefixListFromStrings(1, []),
      attributes: {},
      nlri: prefixListFromStrings(1, []),
    }),
    message(2, '0000 0000'),
  );
});

t.test('encodeMessage refuses a message longer than the session allows', async (t) => {
  const n: NotificationMessage = {
    type: 'notification',
    code: 6,
    subcode: 0,
    data: Buffer.alloc(5000),
  };
  t.throws(() => encodeMessage(n, CTX), RangeError);
  t.equal(encodeMessage(n, { ...CTX, extendedMessage: true }).length, 5021);
});

// ---------------------------------------------------------------------------------------------
// Arbitraries for valid messages.

/** fc.record with ordinary prototypes, so deepStrictEqual compares like with like. */
function rec<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true }) as fc.Arbitrary<T>;
}

const unicastId = fc.integer({ min: 0x01000000, max: 0xdfffffff }).map(formatIpv4);
/** A next hop RFC 4271 §6.3 accepts: unicast, not loopback (127/8). */
const nextHopArb = fc
  .integer({ min: 0x01000000, max: 0xdfffffff })
  .filter((a) => a >>> 24 !== 127)
  .map(formatIpv4);
const afi = fc.constantFrom(1, 2, 25, 16388);
const safi = fc.constantFrom(1, 2, 4, 70, 128, 133);
const text = fc.string({
  maxLength: 30,
  unit: fc.constantFrom('a', 'z', '0', '-', '.', 'é', '€', '😀'),
});
const KNOWN_CODES = new Set([1, 2, 5, 6, 64, 65, 69, 70, 71, 73, 128]);

const capability: fc.Arbitrary<Capability> = fc.oneof(
  rec({
    name: fc.constant('multiprotocol' as const),
    code: fc.constant(1 as const),
    afi,
    safi,
  }),
  rec({
    name: fc.constant('route-refresh' as const),
    code: fc.constantFrom(2 as const, 128 as const),
  }),
  rec({
    name: fc.constant('extended-next-hop' as const),
    code: fc.constant(5 as const),
    entries: fc.array(rec({ afi, safi, nextHopAfi: afi }), { minLength: 1, maxLength: 5 }),
  }),
  rec({ name: fc.constant('extended-message' as const), code: fc.constant(6 as const) }),
  rec({
    name: fc.constant('graceful-restart' as const),
    code: fc.constant(64 as const),
    restarting: fc.boolean(),
    notification: fc.boolean(),
    restartTime: fc.integer({ min: 0, max: 4095 }),
    families: fc.array(rec({ afi, safi, forwarding: fc.boolean() }), { maxLength: 5 }),
  }),
  rec({
    name: fc.constant('four-octet-as' as const),
    code: fc.constant(65 as const),
    asn: fc.integer({ min: 1, max: 0xffffffff }),
  }),
  rec({
    name: fc.constant('add-path' as const),
    code: fc.constant(69 as const),
    families: fc.array(
      rec({
        afi,
        safi,
        mode: fc.constantFrom('receive' as const, 'send' as const, 'both' as const),
      }),
      { minLength: 1, maxLength: 5 },
    ),
  }),
  rec({
    name: fc.constant('enhanced-route-refresh' as const),
    code: fc.constant(70 as const),
  }),
  rec({
    name: fc.constant('long-lived-graceful-restart' as const),
    code: fc.constant(71 as const),
    families: fc.array(
      rec({
        afi,
        safi,
        forwarding: fc.boolean(),
        staleTime: fc.integer({ min: 0, max: 0xffffff }),
      }),
      { maxLength: 5 },
    ),
  }),
  rec({
    name: fc.constant('fqdn' as const),
    code: fc.constant(73 as const),
    hostname: text,
    domain: text,
  }),
  rec({
    name: fc.constant('unknown' as const),
    code: fc.integer({ min: 0, max: 255 }).filter((c) => !KNOWN_CODES.has(c)),
    value: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
  }),
);

/** Splits n capabilities into parameter groups (possibly with empty ones). */
function grouping(n: number): fc.Arbitrary<number[] | undefined> {
  if (n === 0) return fc.constant(undefined);
  return fc.option(
    fc.array(fc.integer({ min: 1, max: n }), { minLength: 1, maxLength: n }).map((cuts) => {
      const sorted = [...new Set(cuts)].sort((a, b) => a - b).filter((c) => c < n);
      const groups: number[] = [];
      let prev = 0;
      for (const c of [...sorted, n]) {
        groups.push(c - prev);
        prev = c;
      }
      return groups;
    }),
    { nil: undefined },
  );
}

const openArb: fc.Arbitrary<OpenMessage> = fc
  .record({
    myAs: fc.integer({ min: 1, max: 65535 }),
    holdTime: fc.oneof(fc.constant(0), fc.integer({ min: 3, max: 65535 })),
    routerId: unicastId,
    capabilities: fc.array(capability, { maxLength: 12 }),
    extended: fc.boolean(),
  })
  .chain((r) =>
    grouping(r.capabilities.length).map((groups) => {
      const msg: OpenMessage = {
        type: 'open',
        version: 4,
        myAs: r.myAs,
        holdTime: r.holdTime,
        routerId: r.routerId,
        capabilities: r.capabilities,
      };
      if (groups !== undefined) msg.capabilityParams = groups;
      if (r.extended) msg.extendedOptParams = true;
      return msg;
    }),
  );

const notificationArb: fc.Arbitrary<NotificationMessage> = fc.oneof(
  fc
    .record({
      code: fc.integer({ min: 0, max: 255 }),
      subcode: fc.integer({ min: 0, max: 255 }),
      data: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
    })
    .filter((n) => !(n.code === 6 && (n.subcode === 2 || n.subcode === 4)))
    .map((n) => ({ type: 'notification' as const, ...n })),
  // RFC 8538 Hard Reset (Cease 9): the inner code and subcode lead the data.
  fc
    .tuple(
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 255 }),
      fc.uint8Array({ maxLength: 32 }),
    )
    .map(([code, subcode, rest]) => ({
      type: 'notification' as const,
      code: 6,
      subcode: 9,
      data: Buffer.from([code, subcode, ...rest]),
    })),
  fc
    .record({ subcode: fc.constantFrom(2, 4), message: text.filter((s) => s.length > 0) })
    .map((n) => ({
      type: 'notification' as const,
      code: 6,
      subcode: n.subcode,
      data: Buffer.alloc(0),
      message: n.message,
    })),
);

const routeRefreshArb: fc.Arbitrary<RouteRefreshMessage> = rec({
  type: fc.constant('route-refresh' as const),
  afi: fc.integer({ min: 0, max: 65535 }),
  safi: fc.integer({ min: 0, max: 255 }),
  subtype: fc.integer({ min: 0, max: 255 }),
});

const v4Prefix = fc
  .tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }))
  .map(([addr, len]) => {
    const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
    return `${formatIpv4((addr & mask) >>> 0)}/${len}`;
  });

const updateArb: fc.Arbitrary<UpdateMessage> = fc
  .record({
    withdrawn: fc.uniqueArray(v4Prefix, { maxLength: 20 }),
    nlri: fc.uniqueArray(v4Prefix, { maxLength: 20 }),
    origin: fc.constantFrom(0 as const, 1 as const, 2 as const),
    asns: fc.array(fc.integer({ min: 1, max: 0xffffffff }), { minLength: 1, maxLength: 8 }),
    nextHop: nextHopArb,
    med: fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }),
    localPref: fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }),
    communities: fc.option(
      fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 6 }),
      {
        nil: undefined,
      },
    ),
  })
  .map((r) => {
    const msg: UpdateMessage = {
      type: 'update',
      withdrawn: prefixListFromStrings(1, r.withdrawn),
      attributes: {},
      nlri: prefixListFromStrings(1, r.nlri),
    };
    if (r.nlri.length > 0) {
      msg.attributes = {
        origin: r.origin,
        asPath: AsPath.of([{ type: 2, asns: r.asns }]),
        nextHop: r.nextHop,
      };
      if (r.med !== undefined) msg.attributes.med = r.med;
      if (r.localPref !== undefined) msg.attributes.localPref = r.localPref;
      if (r.communities !== undefined) msg.attributes.communities = r.communities;
    }
    return msg;
  });

const anyMessage: fc.Arbitrary<BgpMessage> = fc.oneof(
  openArb,
  updateArb,
  notificationArb,
  routeRefreshArb,
  fc.constant({ type: 'keepalive' as const }),
);

/** RFC 9072 §2: decoded OPENs say "extended" when it was forced or needed. */
function expectedOpen(msg: OpenMessage, bytes: Buffer): OpenMessage {
  const out: OpenMessage = { ...msg };
  delete out.extendedOptParams;
  delete out.capabilityParams;
  // Octet 19 + 9 is the Non-Ext OP Len, 19 + 10 the Non-Ext OP Type (255 = extended).
  if (bytes[28] !== 0 && bytes[29] === 255) out.extendedOptParams = true;
  const groups = msg.capabilityParams;
  const n = msg.capabilities.length;
  if (groups !== undefined && !(groups.length === 1 && groups[0] === n))
    out.capabilityParams = groups;
  return out;
}

t.test('random valid messages of every type round-trip (20,000 runs)', async (t) => {
  let runs = 0;
  fc.assert(
    fc.property(anyMessage, (msg) => {
      runs++;
      const bytes = encodeMessage(msg, CTX);
      if (bytes.length !== encodedLengthMessage(msg, CTX)) return false;
      // RFC 4271 §4.1: the header is the marker, the length and the type.
      if (!bytes.subarray(0, 16).equals(Buffer.alloc(16, 0xff))) return false;
      if (bytes.readUInt16BE(16) !== bytes.length) return false;
      const { value, bytesRead } = decodeMessage(bytes, 0, CTX);
      if (bytesRead !== bytes.length || value.type !== msg.type) return false;
      // node:assert inside the property: fast-check shrinks and reports the failing message.
      switch (msg.type) {
        case 'open':
          deepStrictEqual(value, expectedOpen(msg, bytes));
          break;
        case 'notification': {
          const n = value as NotificationMessage;
          if (msg.message !== undefined) {
            // RFC 9003 §2: length octet + UTF-8 (the generated text stays under 255 octets).
            const utf8 = Buffer.from(msg.message, 'utf8');
            deepStrictEqual(n.data, Buffer.concat([Buffer.from([utf8.length]), utf8]));
            equal(n.message, msg.message);
          } else if (msg.code === 6 && msg.subcode === 9 && msg.data.length >= 2) {
            // RFC 8538 §3: a Hard Reset's data starts with the code and subcode it stands for;
            // the decoder reports them (and, for an inner shutdown, its text: not compared).
            const { message: _text, ...rest } = n;
            deepStrictEqual(rest, {
              ...msg,
              hardReset: { code: msg.data[0], subcode: msg.data[1] },
            });
          } else {
            deepStrictEqual(n, msg);
          }
          break;
        }
        case 'update': {
          const u = value as UpdateMessage;
          deepStrictEqual(prefixListToStrings(u.withdrawn), prefixListToStrings(msg.withdrawn));
          deepStrictEqual(prefixListToStrings(u.nlri), prefixListToStrings(msg.nlri));
          equal(u.errors, undefined);
          for (const key of [
            'origin',
            'asPath',
            'nextHop',
            'med',
            'localPref',
            'communities',
          ] as const) {
            deepStrictEqual(u.attributes[key], msg.attributes[key], key);
          }
          ok(encodeMessage(u, CTX).equals(bytes), 'update re-encodes to the same bytes');
          break;
        }
        default:
          deepStrictEqual(value, msg);
      }
      return true;
    }),
    { numRuns: 20_000 },
  );
  t.equal(runs >= 20_000, true, `${runs} runs`);
});

// ---------------------------------------------------------------------------------------------
// Fuzz: random and mutated bytes.

const ctxArb: fc.Arbitrary<CodecContext> = rec({
  as4: fc.boolean(),
  addPath: rec({ ipv4: fc.boolean(), ipv6: fc.boolean() }),
  extendedMessage: fc.boolean(),
  ebgp: fc.boolean(),
});

/** Decoding may succeed or throw a BgpError; anything else is a bug. */
function onlyBgpError(buf: Buffer, ctx: CodecContext): boolean {
  try {
    const { bytesRead } = decodeMessage(buf, 0, ctx);
    if (bytesRead > buf.length) throw new Error(`read ${bytesRead} of ${buf.length}`);
  } catch (err) {
    if (!(err instanceof BgpError)) throw err;
  }
  // The describer behind `podbgp decode` must never throw either.
  if (buf.length >= 19 && buf.length === buf.readUInt16BE(16)) describeMessage(buf, ctx);
  return true;
}

function withHeader(type: number, body: Uint8Array): Buffer {
  const buf = Buffer.alloc(19 + body.length, 0xff);
  buf.writeUInt16BE(Math.min(0xffff, buf.length), 16);
  buf[18] = type;
  Buffer.from(body).copy(buf, 19);
  return buf;
}

t.test('fuzz: only BgpError from random and mutated bytes (>= 40,000 runs)', async (t) => {
  let runs = 0;
  const count = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T> => arb.map((v) => (runs++, v));
  // Random octets of any length.
  fc.assert(
    fc.property(count(fc.uint8Array({ maxLength: 120 })), ctxArb, (bytes, ctx) =>
      onlyBgpError(Buffer.from(bytes), ctx),
    ),
    { numRuns: 8_000 },
  );
  // A valid header of any type in 0..7 around a random body: reaches every body decoder.
  fc.assert(
    fc.property(
      count(fc.integer({ min: 0, max: 7 })),
      fc.uint8Array({ maxLength: 400 }),
      ctxArb,
      (type, body, ctx) => onlyBgpError(withHeader(type, body), ctx),
    ),
    { numRuns: 16_000 },
  );
  // Valid messages with octets overwritten, inserted or cut, the length field fixed or not.
  fc.assert(
    fc.property(
      count(anyMessage),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 6,
      }),
      fc.constantFrom('overwrite', 'insert', 'cut'),
      fc.boolean(),
      ctxArb,
      (msg, edits, how, fixLength, ctx) => {
        let buf = Buffer.from(encodeMessage(msg, { ...ctx, extendedMessage: true }));
        for (const [pos, value] of edits) {
          const at = 16 + (pos % Math.max(1, buf.length - 16));
          if (how === 'overwrite') buf[at] = value;
          else if (how === 'insert')
            buf = Buffer.concat([buf.subarray(0, at), Buffer.from([value]), buf.subarray(at)]);
          else buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + 1)]);
        }
        if (fixLength && buf.length >= 19) buf.writeUInt16BE(Math.min(0xffff, buf.length), 16);
        return onlyBgpError(buf, ctx);
      },
    ),
    { numRuns: 16_000 },
  );
  t.ok(runs >= 40_000, `${runs} runs`);
});
