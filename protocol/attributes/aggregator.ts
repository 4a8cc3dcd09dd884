// ATOMIC_AGGREGATE (6), AGGREGATOR (7) and AS4_AGGREGATOR (18): decode, encode, RFC 7606
// checks. The RFC 6793 choice between AGGREGATOR and AS4_AGGREGATOR is made in update.ts.
// RFC 4271 §5.1.6, §5.1.7; RFC 6793 §4.2.2, §4.2.3, §6; RFC 7606 §7.6, §7.7.

import { AS_TRANS, AttrFlag, AttrType, UpdateSubcode } from '../constants.js';
import { fail, quadAt, readU16, readU32, writeQuad, writeU16, writeU32 } from './common.js';
import type { AttributeDescriptor } from './common.js';
import type { Aggregator, CodecContext, PathAttributes } from '../types.js';

export const atomicAggregateDescriptor: AttributeDescriptor = {
  code: AttrType.ATOMIC_AGGREGATE,
  name: 'ATOMIC_AGGREGATE',
  flags: AttrFlag.TRANSITIVE,
  decode(_buf, start, end, st) {
    // RFC 7606 §7.6: a length other than zero: attribute-discard.
    if (end !== start) {
      fail(
        st,
        'attribute-discard',
        UpdateSubcode.ATTRIBUTE_LENGTH_ERROR,
        'ATOMIC_AGGREGATE length is not 0',
      );
      return;
    }
    st.attrs.atomicAggregate = true;
  },
  valueLength: (a) => (a.atomicAggregate === true ? 0 : -1),
  writeValue: (_a, _buf, off) => off,
};

export const aggregatorDescriptor: AttributeDescriptor = {
  code: AttrType.AGGREGATOR,
  name: 'AGGREGATOR',
  flags: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE,
  decode(buf, start, end, st) {
    const width = st.ctx.as4 ? 4 : 2;
    // RFC 7606 §7.7 with RFC 6793 §6: length other than 6 (2-octet) or 8 (4-octet): discard.
    if (end - start !== width + 4) {
      fail(
        st,
        'attribute-discard',
        UpdateSubcode.ATTRIBUTE_LENGTH_ERROR,
        `AGGREGATOR length is not ${width + 4}`,
      );
      return;
    }
    const asn = width === 4 ? readU32(buf, start) : readU16(buf, start);
    st.attrs.aggregator = { asn, address: quadAt(buf, start + width) };
  },
  valueLength: (a, ctx) => (a.aggregator === undefined ? -1 : ctx.as4 ? 8 : 6),
  writeValue(a, buf, off, ctx) {
    const agg = a.aggregator as Aggregator;
    if (ctx.as4) off = writeU32(buf, off, agg.asn);
    // RFC 6793 §4.2.2: to a 2-octet speaker a 4-octet aggregator ASN becomes AS_TRANS.
    else off = writeU16(buf, off, agg.asn > 0xffff ? AS_TRANS : agg.asn);
    return writeQuad(buf, off, agg.address);
  },
};

/** RFC 6793 §4.2.2: the AS4_AGGREGATOR to send to a 2-octet speaker, or null. */
export function as4AggregatorToSend(a: PathAttributes, ctx: CodecContext): Aggregator | null {
  // RFC 6793 §4.1: never between two 4-octet speakers.
  if (ctx.as4) return null;
  if (a.as4Aggregator !== undefined) return a.as4Aggregator;
  if (a.aggregator !== undefined && a.aggregator.asn > 0xffff) return a.aggregator;
  return null;
}

export const as4AggregatorDescriptor: AttributeDescriptor = {
  code: AttrType.AS4_AGGREGATOR,
  name: 'AS4_AGGREGATOR',
  flags: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE,
  decode(buf, start, end, st) {
    // RFC 6793 §4.1: between two 4-octet speakers AS4_AGGREGATOR is discarded.
    if (st.ctx.as4) {
      fail(
        st,
        'attribute-discard',
        UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR,
        'AS4_AGGREGATOR from a 4-octet-AS speaker is discarded',
      );
      return;
    }
    // RFC 6793 §6: a length other than 8: attribute-discard.
    if (end - start !== 8) {
      fail(
        st,
        'attribute-discard',
        UpdateSubcode.ATTRIBUTE_LENGTH_ERROR,
        'AS4_AGGREGATOR length is not 8',
      );
      return;
    }
    st.attrs.as4Aggregator = { asn: readU32(buf, start), address: quadAt(buf, start + 4) };
  },
  valueLength: (a, ctx) => (as4AggregatorToSend(a, ctx) === null ? -1 : 8),
  writeValue(a, buf, off, ctx) {
    const agg = as4AggregatorToSend(a, ctx) as Aggregator;
    off = writeU32(buf, off, agg.asn);
    return writeQuad(buf, off, agg.address);
  },
};
