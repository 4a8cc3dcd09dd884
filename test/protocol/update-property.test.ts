// Property tests for the UPDATE codec (fast-check): random valid messages survive
// encode -> decode unchanged, and random or mutated octets make decodeUpdate throw nothing but
// BgpError (and never hang). Expectations come from the generated message, not the codec.

import t from 'tap';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { AsPath } from '../../protocol/as-path.js';
import { decodeUpdate, encodeUpdate } from '../../protocol/update.js';
import { updateToJson } from '../../protocol/update-json.js';
import { BgpError } from '../../protocol/errors.js';
import { decodeExtendedCommunity } from '../../protocol/attributes/extended-communities.js';
import { formatIpv4, formatIpv6, v4Key } from '../../protocol/prefix.js';
import type {
  CodecContext,
  FamilyName,
  MpReach,
  MpUnreach,
  PathAttributes,
  PrefixList,
  UnknownAttribute,
  UpdateMessage,
} from '../../protocol/types.js';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const quad = u32.map(formatIpv4);
/** A unicast host address (RFC 4271 §6.3): not 0/8, 127/8 or 224/3. */
const hostQuad = fc
  .tuple(
    fc.integer({ min: 1, max: 223 }).filter((o) => o !== 127),
    fc.integer({ min: 0, max: 0xffffff }),
  )
  .map(([o, rest]) => formatIpv4(o * 0x1000000 + rest));
const v6Addr = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => formatIpv6(b));

const ctxArb: fc.Arbitrary<CodecContext> = fc.record({
  as4: fc.boolean(),
  addPath: fc.record({ ipv4: fc.boolean(), ipv6: fc.boolean() }),
  extendedMessage: fc.constant(true),
  ebgp: fc.constant(false),
});

const v4Prefix = fc
  .tuple(u32, fc.integer({ min: 0, max: 32 }))
  .map(([a, len]) => v4Key(len === 0 ? 0 : (a & (0xffffffff << (32 - len))) >>> 0, len));
const v6Prefix = fc
  .tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 128 }))
  .map(([b, len]) => {
    for (let bit = len; bit < 128; bit++) b[bit >> 3] &= ~(0x80 >> (bit & 7));
    return `${formatIpv6(b)}/${len}`;
  });

function listArb(afi: 1 | 2, addPath: boolean, maxLength: number): fc.Arbitrary<PrefixList> {
  const ids = fc.array(u32, { minLength: maxLength, maxLength });
  if (afi === 1) {
    return fc.tuple(fc.array(v4Prefix, { maxLength }), ids).map(([keys, pathIds]) => ({
      afi: 1 as const,
      length: keys.length,
      v4: Float64Array.from(keys),
      v6: [],
      pathIds: addPath ? Uint32Array.from(pathIds.slice(0, keys.length)) : null,
    }));
  }
  return fc.tuple(fc.array(v6Prefix, { maxLength }), ids).map(([v6, pathIds]) => ({
    afi: 2 as const,
    length: v6.length,
    v4: new Float64Array(0),
    v6,
    pathIds: addPath ? Uint32Array.from(pathIds.slice(0, v6.length)) : null,
  }));
}

/** The body of an MP attribute of a family we keep raw: AFI, SAFI, then `rest`. */
function rawFamily(
  rest: fc.Arbitrary<number[]>,
): fc.Arbitrary<{ afi: number; safi: number; raw: Buffer }> {
  return fc
    .tuple(fc.constantFrom(25, 1, 2, 16388), fc.constantFrom(70, 128, 133, 4), rest)
    .map(([afi, safi, bytes]) => ({
      afi,
      safi,
      raw: Buffer.from([afi >> 8, afi & 255, safi, ...bytes]),
    }));
}

function mpReachArb(ctx: CodecContext): fc.Arbitrary<MpReach> {
  return fc.oneof(
    fc.record({
      afi: fc.constant(2),
      safi: fc.constant(1),
      nextHops: fc.oneof(fc.tuple(v6Addr), fc.tuple(v6Addr, v6Addr)),
      nlri: listArb(2, ctx.addPath.ipv6, 8),
    }),
    fc.record({
      afi: fc.constant(1),
      safi: fc.constant(1),
      nextHops: fc.oneof(fc.tuple(quad), fc.tuple(v6Addr)), // RFC 8950 for the IPv6 one
      nlri: listArb(1, ctx.addPath.ipv4, 8),
    }),
    rawFamily(
      fc
        .tuple(fc.integer({ min: 0, max: 20 }), fc.uint8Array({ maxLength: 30 }))
        .map(([nh, tail]) => [nh, ...new Array<number>(nh).fill(7), 0, ...tail]),
    ).map((r) => ({ ...r, nextHops: [], nlri: null })),
  ) as fc.Arbitrary<MpReach>;
}

function mpUnreachArb(ctx: CodecContext): fc.Arbitrary<MpUnreach> {
  return fc.oneof(
    fc.record({
      afi: fc.constant(2),
      safi: fc.constant(1),
      withdrawn: listArb(2, ctx.addPath.ipv6, 8),
    }),
    fc.record({
      afi: fc.constant(1),
      safi: fc.constant(1),
      withdrawn: listArb(1, ctx.addPath.ipv4, 8),
    }),
    rawFamily(fc.uint8Array({ maxLength: 20 }).map((b) => [...b])).map((r) => ({
      ...r,
      withdrawn: null,
    })),
  ) as fc.Arbitrary<MpUnreach>;
}

function attributesArb(ctx: CodecContext): fc.Arbitrary<PathAttributes> {
  const asn = ctx.as4 ? u32 : fc.integer({ min: 0, max: 0xffff });
  const segment = fc.record({
    type: fc.constantFrom(1 as const, 2 as const, 3 as const, 4 as const),
    asns: fc.array(asn, { minLength: 1, maxLength: 12 }),
  });
  const known = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 32]);
  const unknown = fc.uniqueArray(
    fc.record({
      code: fc.integer({ min: 0, max: 255 }).filter((c) => !known.has(c)),
      flags: fc.constantFrom(0xc0, 0xe0),
      value: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
    }),
    { selector: (u) => u.code, minLength: 1, maxLength: 3 },
  );
  return fc.record(
    {
      origin: fc.constantFrom(0 as const, 1 as const, 2 as const),
      asPath: fc.array(segment, { maxLength: 3 }).map((segs) => AsPath.of(segs)),
      nextHop: hostQuad,
      med: u32,
      localPref: u32,
      atomicAggregate: fc.constant(true),
      aggregator: fc.record({ asn, address: quad }),
      communities: fc.array(u32, { minLength: 1, maxLength: 6 }),
      originatorId: quad,
      clusterList: fc.array(quad, { minLength: 1, maxLength: 4 }),
      mpReach: mpReachArb(ctx),
      mpUnreach: mpUnreachArb(ctx),
      extendedCommunities: fc.array(
        fc
          .uint8Array({ minLength: 8, maxLength: 8 })
          .map((b) => decodeExtendedCommunity(Buffer.from(b))),
        { minLength: 1, maxLength: 4 },
      ),
      largeCommunities: fc.array(fc.tuple(u32, u32, u32), { minLength: 1, maxLength: 3 }),
      unknown,
    },
    { requiredKeys: [] },
  );
}

const messageArb: fc.Arbitrary<[CodecContext, UpdateMessage]> = ctxArb.chain((ctx) =>
  fc
    .tuple(listArb(1, ctx.addPath.ipv4, 10), attributesArb(ctx), listArb(1, ctx.addPath.ipv4, 10))
    .map(([withdrawn, attributes, nlri]): [CodecContext, UpdateMessage] => {
      // RFC 4271 §6.3: announcing needs ORIGIN and AS_PATH, and NEXT_HOP for the NLRI field.
      const mp = attributes.mpReach;
      if (nlri.length > 0 || (mp !== undefined && (mp.nlri === null || mp.nlri.length > 0))) {
        attributes.origin ??= 0;
        attributes.asPath ??= AsPath.EMPTY;
      }
      if (nlri.length > 0) attributes.nextHop ??= '10.0.0.1';
      return [ctx, { type: 'update', withdrawn, attributes, nlri }];
    }),
);

/** What decoding the encoded message must give: Partial set on passed-on unknowns, End-of-RIB named. */
function expectedJson(msg: UpdateMessage): Record<string, unknown> {
  const a = msg.attributes;
  const unknown: UnknownAttribute[] | undefined = a.unknown
    ?.map((u) => ({ ...u, flags: u.flags | 0x20 | (u.value.length > 255 ? 0x10 : 0) }))
    .sort((x, y) => x.code - y.code);
  const json = updateToJson({ ...msg, attributes: unknown === undefined ? a : { ...a, unknown } });
  let eor: FamilyName | undefined;
  const keys = Object.keys(a);
  if (msg.withdrawn.length === 0 && msg.nlri.length === 0) {
    if (keys.length === 0) eor = 'ipv4-unicast';
    const mu = a.mpUnreach;
    if (
      keys.length === 1 &&
      mu !== undefined &&
      mu.withdrawn !== null &&
      mu.withdrawn.length === 0
    ) {
      eor = mu.afi === 1 ? 'ipv4-unicast' : 'ipv6-unicast';
    }
  }
  if (eor !== undefined) json.endOfRib = eor;
  return json;
}

t.test('property: encode -> decode gives the message back', async (t) => {
  fc.assert(
    fc.property(messageArb, ([ctx, msg]) => {
      const back = decodeUpdate(encodeUpdate(msg, ctx), ctx);
      if (back.errors !== undefined) throw back.errors[0];
      // Compared as the JSON form, which shows every field of the message.
      return isDeepStrictEqual(updateToJson(back), expectedJson(msg));
    }),
    { numRuns: 25000 },
  );
  t.pass('25,000 random messages round-tripped');
});

/** Decodes, and if that works, formats and re-encodes: only BgpError may escape. */
function onlyBgpErrors(bytes: Uint8Array, ctx: CodecContext): boolean {
  let msg: UpdateMessage;
  try {
    msg = decodeUpdate(Buffer.from(bytes), ctx);
  } catch (err) {
    if (err instanceof BgpError) return true;
    throw err;
  }
  updateToJson(msg);
  encodeUpdate(msg, { ...ctx, extendedMessage: true });
  return true;
}

t.test('fuzz: random octets produce only BgpError', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), ctxArb, (bytes, ctx) =>
      onlyBgpErrors(bytes, ctx),
    ),
    {
      numRuns: 30000,
    },
  );
  // Random octets behind plausible length fields reach the attribute and NLRI parsers.
  const framed = fc.tuple(
    fc.uint8Array({ maxLength: 20 }),
    fc.uint8Array({ maxLength: 200 }),
    fc.uint8Array({ maxLength: 20 }),
  );
  fc.assert(
    fc.property(framed, ctxArb, ([w, a, n], ctx) =>
      onlyBgpErrors(
        Buffer.from([
          w.length >> 8,
          w.length & 255,
          ...w,
          a.length >> 8,
          a.length & 255,
          ...a,
          ...n,
        ]),
        ctx,
      ),
    ),
    { numRuns: 20000 },
  );
  t.pass('50,000 random inputs');
});

t.test('fuzz: mutated valid messages produce only BgpError', async (t) => {
  const mutation = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
    minLength: 1,
    maxLength: 4,
  });
  fc.assert(
    fc.property(
      messageArb,
      mutation,
      fc.nat(),
      fc.boolean(),
      ([ctx, msg], flips, cut, truncate) => {
        const bytes = encodeUpdate(msg, ctx);
        for (const [pos, value] of flips) if (bytes.length > 0) bytes[pos % bytes.length] = value;
        const input = truncate && bytes.length > 0 ? bytes.subarray(0, cut % bytes.length) : bytes;
        return onlyBgpErrors(input, ctx);
      },
    ),
    { numRuns: 30000 },
  );
  t.pass('30,000 mutated messages');
});
