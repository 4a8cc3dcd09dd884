// The export rules: which peers may receive a Loc-RIB best path, and the attributes it carries
// to them (before export policy). Pure functions over peer facts and interned attributes.
// RFC 4271 §9.1.3, §9.2, §5.1.2-§5.1.5; RFC 4456 §8 (reflection, ORIGINATOR_ID, CLUSTER_LIST);
// RFC 1997 (NO_EXPORT, NO_ADVERTISE).

import { AsPath } from '../../protocol/as-path.js';
import type { PathAttributes } from '../../protocol/types.js';
import type { RouteAttrs } from './attrs.js';
import { DEFAULT_LOCAL_PREF, copyWithout } from './attrs.js';

const EBGP_DROP_LOCAL: (keyof PathAttributes)[] = ['localPref', 'originatorId', 'clusterList'];
const EBGP_DROP: (keyof PathAttributes)[] = [...EBGP_DROP_LOCAL, 'med'];

/** The facts of the receiving peer the rules need. */
export interface ExportTarget {
  readonly ebgp: boolean;
  readonly rrClient: boolean;
  readonly nextHopSelf: boolean;
  readonly localAsn: number;
  /** The peer's BGP Identifier (to avoid reflecting a route to its originator). */
  readonly routerIdNum: number;
  /** Toward eBGP: also send routes learned from other peers (otherwise own routes only). */
  readonly transit: boolean;
}

/** The facts of the route's source the rules need. */
export interface ExportSource {
  readonly ebgp: boolean;
  readonly local: boolean;
  readonly rrClient: boolean;
  readonly routerId: string;
}

/**
 * Whether a best path from `src` may go to `target` at all (export policy comes after).
 * The caller has already excluded sending a route back to the peer it came from.
 */
export function mayExport(src: ExportSource, a: RouteAttrs, target: ExportTarget): boolean {
  // RFC 1997: NO_ADVERTISE goes to no peer; NO_EXPORT to no eBGP peer.
  if (a.noAdvertise) return false;
  if (target.ebgp && a.noExport) return false;
  // A node is not a transit AS: toward eBGP peers it sends its own blocks only, unless the
  // peer is configured for transit.
  if (target.ebgp && !src.local && !target.transit) return false;
  if (!target.ebgp && !src.ebgp && !src.local) {
    // RFC 4271 §9.2: an iBGP-learned route is not sent to iBGP peers (split horizon) ...
    // RFC 4456 §8: ... unless we reflect it: from a client to everyone, from a non-client to
    // clients only.
    if (!src.rrClient && !target.rrClient) return false;
    // RFC 4456 §8: never reflect a route back to the router that originated it.
    if (a.originatorId >= 0 && a.originatorId === target.routerIdNum) return false;
  }
  return true;
}

/**
 * The attributes sent to `target` (next hop included), or null when the route needs
 * next-hop-self and we have no address of the family toward that peer.
 */
export function exportAttributes(
  src: ExportSource,
  a: RouteAttrs,
  target: ExportTarget,
  selfAddress: string | undefined,
  clusterId: string,
): PathAttributes | null {
  if (target.ebgp) {
    // RFC 4271 §5.1.5: LOCAL_PREF is not sent to external peers. RFC 4456 §8: ORIGINATOR_ID and
    // CLUSTER_LIST stay inside the AS. RFC 4271 §5.1.4: a MED learned from one AS is not passed
    // to another (our own routes keep theirs).
    const out = copyWithout(a.attrs, src.local ? EBGP_DROP_LOCAL : EBGP_DROP);
    // RFC 4271 §5.1.2: prepend our own AS to the AS_PATH toward an external peer.
    out.asPath = (a.attrs.asPath ?? AsPath.EMPTY).prepend([target.localAsn]);
    // RFC 4271 §5.1.3: toward eBGP the next hop is our address.
    if (!selfAddress) return null;
    out.nextHop = selfAddress;
    return out;
  }
  const out: PathAttributes = { ...a.attrs };
  // RFC 4271 §5.1.5: LOCAL_PREF is always carried to internal peers.
  out.localPref = a.attrs.localPref ?? DEFAULT_LOCAL_PREF;
  if (src.local) {
    if (!selfAddress) return null;
    out.nextHop = selfAddress;
  } else if (src.ebgp) {
    if (target.nextHopSelf) {
      if (!selfAddress) return null;
      out.nextHop = selfAddress;
    }
  } else {
    // RFC 4456 §8: a reflected route keeps its next hop, gets ORIGINATOR_ID (the originating
    // router's id) when it has none, and has our cluster id prepended to CLUSTER_LIST.
    out.originatorId = a.attrs.originatorId ?? src.routerId;
    out.clusterList = [clusterId, ...(a.attrs.clusterList ?? [])];
  }
  return out;
}
