// Turns the RIB's neutral outbound updates into whole UPDATE messages with the codec's packer,
// and wraps a byte writer into an UpdateSink. The only place where rib/ meets the wire format.
// RFC 4271 §4.3, §9.2; RFC 4760 §3-§4 (IPv6 in MP_REACH/MP_UNREACH); RFC 4724 §2 (End-of-RIB).

import { endOfRib, packUpdates, packWithdrawals } from '../../protocol/pack.js';
import type { CodecContext } from '../../protocol/types.js';
import type { OutboundUpdate, UpdateSink } from './types.js';

/** The UPDATE messages (header included) for one outbound update, for the session's context. */
export function packOutbound(update: OutboundUpdate, ctx: CodecContext): Buffer[] {
  switch (update.kind) {
    case 'announce': {
      const nh = update.attributes.nextHop;
      if (nh === undefined) throw new TypeError('outbound announcement without a next hop');
      // IPv6 (and an IPv6 next hop) go in MP_REACH_NLRI; IPv4 uses the NEXT_HOP attribute.
      const hops = update.family === 'ipv6-unicast' || nh.includes(':') ? [nh] : undefined;
      return packUpdates(update.attributes, update.prefixes, ctx, hops);
    }
    case 'withdraw':
      return packWithdrawals(update.prefixes, ctx);
    case 'end-of-rib':
      return [endOfRib(update.family, ctx)];
  }
}

/**
 * An UpdateSink over a message writer such as the session's bounded send queue: `write` returns
 * false above the high-water mark; the session calls `Rib.sinkWritable(peer)` when it drains.
 */
export function packingSink(ctx: CodecContext, write: (message: Buffer) => boolean): UpdateSink {
  return {
    send(update) {
      let writable = true;
      for (const msg of packOutbound(update, ctx)) writable = write(msg) && writable;
      return writable;
    },
  };
}
