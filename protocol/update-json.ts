// The stable JSON form of a decoded UPDATE (the `podbgp decode` output, documented in the
// README) and of an UPDATE error. Formatting only: nothing here decodes or validates.
// RFC 4271 §4.3, RFC 1997, RFC 4360, RFC 4760, RFC 7606 §2, RFC 7911, RFC 8092.

import { AsPathSegmentType } from './constants.js';
import type { BgpError } from './errors.js';
import { formatCommunity } from './attributes/communities.js';
import { formatLargeCommunity } from './attributes/large-communities.js';
import { strongestError } from './update.js';
import { formatV4Key } from './prefix.js';
import type {
  Aggregator,
  AsPathSegment,
  PathAttributes,
  PrefixList,
  UpdateMessage,
} from './types.js';

const ORIGIN_NAMES = ['igp', 'egp', 'incomplete'] as const;

const SEGMENT_NAMES: Record<number, string> = {
  [AsPathSegmentType.AS_SET]: 'set',
  [AsPathSegmentType.AS_SEQUENCE]: 'sequence',
  [AsPathSegmentType.AS_CONFED_SEQUENCE]: 'confed-sequence',
  [AsPathSegmentType.AS_CONFED_SET]: 'confed-set',
};

/** Prefixes as "a.b.c.d/n" strings, or {prefix, pathId} objects when ADD-PATH ids are present. */
export function prefixesToJson(list: PrefixList): (string | { prefix: string; pathId: number })[] {
  const out: (string | { prefix: string; pathId: number })[] = [];
  for (let i = 0; i < list.length; i++) {
    const prefix = list.afi === 1 ? formatV4Key(list.v4[i]) : list.v6[i];
    out.push(list.pathIds === null ? prefix : { prefix, pathId: list.pathIds[i] });
  }
  return out;
}

function asPathToJson(path: readonly AsPathSegment[]): { type: string; asns: number[] }[] {
  return path.map((s) => ({ type: SEGMENT_NAMES[s.type] ?? String(s.type), asns: [...s.asns] }));
}

function aggregatorToJson(a: Aggregator): { asn: number; address: string } {
  return { asn: a.asn, address: a.address };
}

/** The `attributes` object of the JSON form. */
export function attributesToJson(a: PathAttributes): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (a.origin !== undefined) o.origin = ORIGIN_NAMES[a.origin];
  if (a.asPath !== undefined) o.asPath = asPathToJson(a.asPath.segments);
  if (a.nextHop !== undefined) o.nextHop = a.nextHop;
  if (a.med !== undefined) o.med = a.med;
  if (a.localPref !== undefined) o.localPref = a.localPref;
  if (a.atomicAggregate !== undefined) o.atomicAggregate = a.atomicAggregate;
  if (a.aggregator !== undefined) o.aggregator = aggregatorToJson(a.aggregator);
  if (a.communities !== undefined) o.communities = a.communities.map(formatCommunity);
  if (a.originatorId !== undefined) o.originatorId = a.originatorId;
  if (a.clusterList !== undefined) o.clusterList = [...a.clusterList];
  if (a.mpReach !== undefined) {
    const m = a.mpReach;
    o.mpReach =
      m.nlri === null
        ? {
            afi: m.afi,
            safi: m.safi,
            unsupported: true,
            hex: (m.raw ?? Buffer.alloc(0)).toString('hex'),
          }
        : { afi: m.afi, safi: m.safi, nextHops: [...m.nextHops], nlri: prefixesToJson(m.nlri) };
  }
  if (a.mpUnreach !== undefined) {
    const m = a.mpUnreach;
    o.mpUnreach =
      m.withdrawn === null
        ? {
            afi: m.afi,
            safi: m.safi,
            unsupported: true,
            hex: (m.raw ?? Buffer.alloc(0)).toString('hex'),
          }
        : { afi: m.afi, safi: m.safi, withdrawn: prefixesToJson(m.withdrawn) };
  }
  if (a.extendedCommunities !== undefined) {
    o.extendedCommunities = a.extendedCommunities.map((c) => {
      const e: Record<string, unknown> = { type: c.type, subtype: c.subtype };
      if (c.kind !== undefined) e.kind = c.kind;
      if (c.global !== undefined) e.global = c.global;
      if (c.local !== undefined) e.local = c.local;
      e.hex = c.raw.toString('hex');
      return e;
    });
  }
  if (a.as4Path !== undefined) o.as4Path = asPathToJson(a.as4Path.segments);
  if (a.as4Aggregator !== undefined) o.as4Aggregator = aggregatorToJson(a.as4Aggregator);
  if (a.largeCommunities !== undefined)
    o.largeCommunities = a.largeCommunities.map(formatLargeCommunity);
  if (a.unknown !== undefined) {
    o.unknown = a.unknown.map((u) => ({
      code: u.code,
      flags: u.flags,
      hex: u.value.toString('hex'),
    }));
  }
  return o;
}

/** `{action, code, subcode, reason}` for an UPDATE error (thrown or collected). */
export function updateErrorToJson(err: BgpError): {
  action: string;
  code: number;
  subcode: number;
  reason: string;
} {
  return {
    action: err.handling,
    code: err.notification.code,
    subcode: err.notification.subcode,
    reason: err.message,
  };
}

/**
 * The JSON form of a decoded UPDATE: {type, withdrawn, nlri, attributes, endOfRib?, error?}.
 * `error` is the strongest RFC 7606 error (RFC 7606 §3 (g)); `errors` lists all when several.
 */
export function updateToJson(msg: UpdateMessage): Record<string, unknown> {
  const o: Record<string, unknown> = {
    type: 'update',
    withdrawn: prefixesToJson(msg.withdrawn),
    nlri: prefixesToJson(msg.nlri),
    attributes: attributesToJson(msg.attributes),
  };
  if (msg.endOfRib !== undefined) o.endOfRib = msg.endOfRib;
  const worst = strongestError(msg);
  if (worst !== null) {
    o.error = updateErrorToJson(worst);
    if (msg.errors !== undefined && msg.errors.length > 1)
      o.errors = msg.errors.map(updateErrorToJson);
  }
  return o;
}
