// The stable JSON view of decoded messages (what `podbgp decode` prints), and a describer that
// turns one framed message, valid or not, into that view plus an `error` object. Presentation
// only: no decoding rules live here. RFC 4271 §4, RFC 7606 §2, RFC 9003 §2.

import { HEADER_LENGTH, MessageType } from './constants.js';
import { BgpError } from './errors.js';
import { messageTypeName } from './header.js';
import { decodeMessage } from './message.js';
import { notificationName } from './notification.js';
import { parseOpen } from './open.js';
import { formatIpv4 } from './prefix.js';
import { routeRefreshSubtypeName } from './route-refresh.js';
import { DEFAULT_CONTEXT } from './types.js';
import type {
  BgpMessage,
  Capability,
  CodecContext,
  NotificationMessage,
  OpenMessage,
  RouteRefreshMessage,
} from './types.js';
import { updateToJson } from './update-json.js';

export type Json = Record<string, unknown>;

const FAMILY_NAMES: Record<string, string> = {
  '1/1': 'ipv4-unicast',
  '1/2': 'ipv4-multicast',
  '1/4': 'ipv4-labeled-unicast',
  '1/128': 'ipv4-vpn',
  '1/133': 'ipv4-flowspec',
  '2/1': 'ipv6-unicast',
  '2/2': 'ipv6-multicast',
  '2/4': 'ipv6-labeled-unicast',
  '2/128': 'ipv6-vpn',
  '2/133': 'ipv6-flowspec',
  '25/70': 'l2vpn-evpn',
};

/** IANA AFI/SAFI as a readable name ("ipv4-unicast"); "afi-25/safi-65" when we have none. */
export function familyName(afi: number, safi: number): string {
  return FAMILY_NAMES[`${afi}/${safi}`] ?? `afi-${afi}/safi-${safi}`;
}

/** RFC 7606 §2 action and the NOTIFICATION it implies, as `podbgp decode` shows them. */
export function errorToJson(err: BgpError): Json {
  return {
    action: err.handling,
    code: err.notification.code,
    subcode: err.notification.subcode,
    reason: err.message,
  };
}

function familyFields(afi: number, safi: number): Json {
  return { afi, safi, family: familyName(afi, safi) };
}

export function capabilityToJson(cap: Capability): Json {
  const head = { code: cap.code, name: cap.code === 128 ? 'route-refresh-cisco' : cap.name };
  switch (cap.name) {
    case 'multiprotocol':
      return { ...head, ...familyFields(cap.afi, cap.safi) };
    case 'route-refresh':
    case 'extended-message':
    case 'enhanced-route-refresh':
      return head;
    case 'extended-next-hop':
      return {
        ...head,
        entries: cap.entries.map((e) => ({
          ...familyFields(e.afi, e.safi),
          nextHopAfi: e.nextHopAfi,
        })),
      };
    case 'graceful-restart':
      return {
        ...head,
        restarting: cap.restarting,
        notification: cap.notification,
        restartTime: cap.restartTime,
        families: cap.families.map((f) => ({
          ...familyFields(f.afi, f.safi),
          forwarding: f.forwarding,
        })),
      };
    case 'four-octet-as':
      return { ...head, asn: cap.asn };
    case 'add-path':
      return {
        ...head,
        families: cap.families.map((f) => ({ ...familyFields(f.afi, f.safi), mode: f.mode })),
      };
    case 'long-lived-graceful-restart':
      return {
        ...head,
        families: cap.families.map((f) => ({
          ...familyFields(f.afi, f.safi),
          forwarding: f.forwarding,
          staleTime: f.staleTime,
        })),
      };
    case 'fqdn':
      return { ...head, hostname: cap.hostname, domain: cap.domain };
    case 'unknown':
      return { ...head, hex: cap.value.toString('hex') };
  }
}

export function openToJson(msg: OpenMessage): Json {
  const four = msg.capabilities.find((c) => c.name === 'four-octet-as');
  const out: Json = {
    type: 'open',
    version: msg.version,
    myAs: msg.myAs,
    // RFC 6793 §4.1: the real ASN is the capability's when present, else My AS.
    asn: four && four.name === 'four-octet-as' ? four.asn : msg.myAs,
    holdTime: msg.holdTime,
    routerId: msg.routerId,
    capabilities: msg.capabilities.map(capabilityToJson),
  };
  if (msg.extendedOptParams) out.extendedOptParams = true;
  return out;
}

export function notificationToJson(msg: NotificationMessage): Json {
  const out: Json = {
    type: 'notification',
    code: msg.code,
    subcode: msg.subcode,
    name: notificationName(msg.code, msg.subcode),
    data: msg.data.toString('hex'),
  };
  if (msg.hardReset !== undefined) {
    const inner = msg.hardReset;
    out.hardReset = { ...inner, name: notificationName(inner.code, inner.subcode) };
  }
  if (msg.message !== undefined) out.message = msg.message;
  return out;
}

export function routeRefreshToJson(msg: RouteRefreshMessage): Json {
  return {
    type: 'route-refresh',
    ...familyFields(msg.afi, msg.safi),
    subtype: msg.subtype,
    subtypeName: routeRefreshSubtypeName(msg.subtype),
  };
}

/** The JSON shape of a decoded message (documented in the README). */
export function messageToJson(msg: BgpMessage): Json {
  switch (msg.type) {
    case 'open':
      return openToJson(msg);
    case 'update':
      return updateToJson(msg);
    case 'notification':
      return notificationToJson(msg);
    case 'keepalive':
      return { type: 'keepalive' };
    case 'route-refresh':
      return routeRefreshToJson(msg);
  }
}

/** What can still be shown of a message whose decoding failed with a session-reset error. */
function partialFields(type: number, body: Buffer): Json {
  if (type === MessageType.OPEN && body.length >= 10) {
    try {
      const { type: _t, ...fields } = openToJson(parseOpen(body));
      return fields;
    } catch {
      // The parameters are malformed: the fixed fields still make sense.
      return {
        version: body[0],
        myAs: body.readUInt16BE(1),
        holdTime: body.readUInt16BE(3),
        routerId: formatIpv4(body.readUInt32BE(5)),
      };
    }
  }
  if (type === MessageType.ROUTE_REFRESH && body.length >= 4) {
    return {
      ...familyFields(body.readUInt16BE(0), body[3]),
      subtype: body[2],
      subtypeName: routeRefreshSubtypeName(body[2]),
    };
  }
  if (type === MessageType.NOTIFICATION && body.length >= 2) {
    return { code: body[0], subcode: body[1], name: notificationName(body[0], body[1]) };
  }
  return {};
}

/**
 * Describes one framed message (as the Framer yields it) for `podbgp decode`: the JSON of the
 * decoded message, or, when it is malformed, its type, length, hex, whatever fields could be
 * read, and `error: {action, code, subcode, reason}`. Throws nothing but non-BgpError bugs.
 */
export function describeMessage(frame: Buffer, ctx: CodecContext = DEFAULT_CONTEXT): Json {
  try {
    return messageToJson(decodeMessage(frame, 0, ctx).value);
  } catch (err) {
    if (!(err instanceof BgpError)) throw err;
    const typeCode = frame.length >= HEADER_LENGTH ? frame[HEADER_LENGTH - 1] : -1;
    const name = messageTypeName(typeCode);
    const out: Json = { type: name ?? 'unknown' };
    if (name === undefined) out.typeCode = typeCode;
    if (frame.length >= 18) out.length = frame.readUInt16BE(16);
    Object.assign(out, partialFields(typeCode, frame.subarray(HEADER_LENGTH)));
    out.hex = frame.toString('hex');
    out.error = errorToJson(err);
    return out;
  }
}
