// Helpers for test/protocol/fixtures.test.ts: fixtures/index.json loading, a tiny wire walker
// built from the RFC layouts (never from protocol/), the canonical re-serialisation of an UPDATE,
// and the comparator that checks every key of a fixture's `expected` against a decoded message.
// RFC 4271 §4.2, §4.3, §5; RFC 5492 §4; RFC 4724 §3; RFC 9494 §2; RFC 6793 §4.2; RFC 7911.

import { readFileSync } from 'node:fs';
import type { Test } from 'tap';
import { notificationName } from '../../protocol/notification.js';
import { prefixListToStrings } from '../../protocol/prefix.js';
import type {
  BgpMessage,
  Capability,
  CodecContext,
  OpenMessage,
  PathAttributes,
  PrefixList,
  UpdateMessage,
} from '../../protocol/types.js';

// ---------------------------------------------------------------------------------------------
// fixtures/index.json

export type Json = Record<string, unknown>;

export interface Endpoint {
  daemon: string;
  speaker: string;
  address: string;
  asn: number;
}

export interface FixtureEntry {
  file: string;
  daemon: string;
  version: string;
  type: BgpMessage['type'];
  kind: string;
  scenario: string;
  session: string;
  from: Endpoint;
  to: Endpoint;
  capturedDuring: string;
  context: { fourOctetAs: boolean; addPath: string[]; ebgp: boolean };
  expected: Json;
  observed: Json;
}

export interface FixtureIndex {
  generatedBy: string;
  note: string;
  versions: Record<string, string>;
  scenarios: { name: string; description: string; phases: { name: string }[] }[];
  problems: unknown[];
  fixtures: FixtureEntry[];
}

const TOP_KEYS = ['generatedBy', 'note', 'versions', 'scenarios', 'problems', 'fixtures'];
const ENTRY_KEYS = [
  'file',
  'daemon',
  'version',
  'type',
  'kind',
  'scenario',
  'session',
  'from',
  'to',
  'capturedDuring',
  'context',
  'expected',
  'observed',
];
const TYPES = ['open', 'update', 'notification', 'keepalive', 'route-refresh'];

/** Reads index.json and checks its shape; throws with the offending path on any surprise. */
export function loadIndex(path: string): FixtureIndex {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  const top = obj(raw, 'index.json');
  sameKeys(top, TOP_KEYS, 'index.json');
  const fixtures = arr(top.fixtures, 'fixtures');
  fixtures.forEach((e, i) => {
    const where = `fixtures[${i}]`;
    const entry = obj(e, where);
    sameKeys(entry, ENTRY_KEYS, where);
    for (const k of ['file', 'daemon', 'version', 'kind', 'scenario', 'session', 'capturedDuring'])
      str(entry[k], `${where}.${k}`);
    if (!TYPES.includes(str(entry.type, `${where}.type`)))
      throw new Error(`${where}.type: unknown message type ${String(entry.type)}`);
    const ctx = obj(entry.context, `${where}.context`);
    sameKeys(ctx, ['fourOctetAs', 'addPath', 'ebgp'], `${where}.context`);
    bool(ctx.fourOctetAs, `${where}.context.fourOctetAs`);
    bool(ctx.ebgp, `${where}.context.ebgp`);
    for (const fam of arr(ctx.addPath, `${where}.context.addPath`)) family(fam, where);
    for (const side of ['from', 'to']) {
      const ep = obj(entry[side], `${where}.${side}`);
      str(ep.daemon, `${where}.${side}.daemon`);
      str(ep.address, `${where}.${side}.address`);
      num(ep.asn, `${where}.${side}.asn`);
    }
    obj(entry.expected, `${where}.expected`);
    obj(entry.observed, `${where}.observed`);
  });
  return raw as FixtureIndex;
}

/** A fixture file: hex text, whitespace ignored (fixtures/README.md "Format"). */
export function readFixture(path: string): Buffer {
  const text = readFileSync(path, 'utf8').replace(/\s+/g, '');
  if (!/^([0-9a-f]{2})+$/.test(text)) throw new Error(`${path}: not lowercase hex`);
  return Buffer.from(text, 'hex');
}

/** The receiving session's context as index.json gives it (fixtures/README.md "context"). */
export function contextOf(f: FixtureEntry): CodecContext {
  return {
    as4: f.context.fourOctetAs,
    addPath: {
      ipv4: f.context.addPath.includes('ipv4-unicast'),
      ipv6: f.context.addPath.includes('ipv6-unicast'),
    },
    // README: no message here exceeds 4096 octets, so extended message never matters.
    extendedMessage: false,
    ebgp: f.context.ebgp,
  };
}

/** The `podbgp decode` flags for that context (README of the issue: --as2, --add-path, --ebgp). */
export function cliFlags(f: FixtureEntry): string[] {
  const flags: string[] = [];
  if (!f.context.fourOctetAs) flags.push('--as2');
  if (f.context.addPath.length > 0)
    flags.push('--add-path', f.context.addPath.map((a) => a.replace('-unicast', '')).join(','));
  if (f.context.ebgp) flags.push('--ebgp');
  return flags;
}

// ---------------------------------------------------------------------------------------------
// Narrowing of `unknown` expectation values: a wrong type fails loudly with its path.

function fail(path: string, what: string): never {
  throw new Error(`${path}: ${what}`);
}
export function obj(v: unknown, path: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'expected an object');
  return v as Json;
}
export function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) fail(path, 'expected an array');
  return v as unknown[];
}
export function str(v: unknown, path: string): string {
  if (typeof v !== 'string') fail(path, 'expected a string');
  return v;
}
export function num(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(path, 'expected an integer');
  return v;
}
export function bool(v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') fail(path, 'expected a boolean');
  return v;
}
function sameKeys(o: Json, keys: string[], path: string): void {
  const got = Object.keys(o).sort();
  const want = [...keys].sort();
  if (got.join() !== want.join()) fail(path, `keys ${got.join()} differ from ${want.join()}`);
}

/** IANA AFI/SAFI of the family names index.json uses (RFC 4760 §3; IANA registries). */
export const FAMILIES: Record<string, { afi: number; safi: number }> = {
  'ipv4-unicast': { afi: 1, safi: 1 },
  'ipv6-unicast': { afi: 2, safi: 1 },
};
function family(v: unknown, path: string): { afi: number; safi: number } {
  const f = FAMILIES[str(v, path)];
  if (f === undefined) fail(path, `unknown family ${String(v)}`);
  return f;
}
function familyKey(afi: number, safi: number): string {
  return `${afi}/${safi}`;
}

// ---------------------------------------------------------------------------------------------
// The wire, read by hand from the RFC layouts (independent of protocol/).

export interface RawAttr {
  flags: number;
  code: number;
  value: Buffer;
}

/** RFC 4271 §4.3: the three fields of an UPDATE; attributes as (flags, code, value). */
export function rawUpdate(msg: Buffer): { withdrawn: Buffer; attrs: RawAttr[]; nlri: Buffer } {
  const body = msg.subarray(19);
  const wLen = body.readUInt16BE(0);
  const aLen = body.readUInt16BE(2 + wLen);
  const aStart = 4 + wLen;
  const attrs: RawAttr[] = [];
  for (let p = aStart; p < aStart + aLen;) {
    const flags = body[p];
    const ext = (flags & 0x10) !== 0; // RFC 4271 §4.3: Extended Length bit
    const len = ext ? body.readUInt16BE(p + 2) : body[p + 2];
    const v = p + (ext ? 4 : 3);
    attrs.push({ flags, code: body[p + 1], value: body.subarray(v, v + len) });
    p = v + len;
  }
  return {
    withdrawn: body.subarray(2, 2 + wLen),
    attrs,
    nlri: body.subarray(aStart + aLen),
  };
}

export interface RawCapability {
  code: number;
  value: Buffer;
}

/** RFC 4271 §4.2 + RFC 5492 §4: the capabilities of an OPEN, in wire order. */
export function rawCapabilities(msg: Buffer): { paramsLength: number; caps: RawCapability[] } {
  const body = msg.subarray(19);
  const pLen = body[9];
  const caps: RawCapability[] = [];
  for (let p = 10; p < 10 + pLen;) {
    const type = body[p];
    const len = body[p + 1];
    if (type === 2) {
      for (let c = p + 2; c < p + 2 + len;) {
        caps.push({ code: body[c], value: body.subarray(c + 2, c + 2 + body[c + 1]) });
        c += 2 + body[c + 1];
      }
    }
    p += 2 + len;
  }
  return { paramsLength: pLen, caps };
}

/** RFC 4271 §4.3: AS_PATH segments of `width`-octet ASNs. */
export function rawAsPath(value: Buffer, width: 2 | 4): { type: number; asns: number[] }[] {
  const out: { type: number; asns: number[] }[] = [];
  for (let p = 0; p < value.length;) {
    const type = value[p];
    const n = value[p + 1];
    const asns: number[] = [];
    for (let i = 0; i < n; i++)
      asns.push(
        width === 2 ? value.readUInt16BE(p + 2 + 2 * i) : value.readUInt32BE(p + 2 + 4 * i),
      );
    out.push({ type, asns });
    p += 2 + n * width;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Canonical UPDATE encoding (what podbgp sends), applied to a daemon's bytes.

/**
 * The differences between a daemon's UPDATE and podbgp's canonical encoding of the same content:
 * - 'extended-length': the Extended Length bit on an attribute of at most 255 octets. RFC 4271
 *   §4.3 allows it; podbgp sets it only when needed.
 * - 'attribute-order': podbgp sends MP_REACH_NLRI and MP_UNREACH_NLRI first (RFC 7606 §5.1
 *   SHOULD), then ascending type code (RFC 4271 §5 SHOULD); daemons may order otherwise.
 * - 'partial-bit': an unrecognised optional transitive attribute passed on gets the Partial bit
 *   (RFC 4271 §5: "the Partial bit is set to 1"); the originator sent it clear.
 */
export type Normalisation = 'extended-length' | 'attribute-order' | 'partial-bit';

/** Attribute codes podbgp recognises (the issue's list): everything else is "unknown". */
const KNOWN_ATTRIBUTE_CODES = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 32]);

function canonicalRank(code: number): number {
  if (code === 14) return -2;
  if (code === 15) return -1;
  return code;
}

/**
 * Re-serialises an UPDATE's attributes canonically and says which normalisations that took.
 * Withdrawn Routes and NLRI are copied as they are; only the Path Attributes field changes.
 */
export function canonicaliseUpdate(msg: Buffer): { bytes: Buffer; applied: Normalisation[] } {
  const { withdrawn, attrs, nlri } = rawUpdate(msg);
  const applied = new Set<Normalisation>();
  const sorted = [...attrs].sort((a, b) => canonicalRank(a.code) - canonicalRank(b.code));
  if (sorted.some((a, i) => a !== attrs[i])) applied.add('attribute-order');
  const parts: Buffer[] = [];
  for (const a of sorted) {
    let flags = a.flags;
    if (a.value.length <= 255 && (flags & 0x10) !== 0) {
      applied.add('extended-length');
      flags &= ~0x10;
    }
    if (!KNOWN_ATTRIBUTE_CODES.has(a.code) && (flags & 0xc0) === 0xc0 && (flags & 0x20) === 0) {
      applied.add('partial-bit');
      flags |= 0x20;
    }
    const head =
      a.value.length > 255
        ? Buffer.from([flags | 0x10, a.code, a.value.length >> 8, a.value.length & 255])
        : Buffer.from([flags, a.code, a.value.length]);
    parts.push(head, a.value);
  }
  const attrBytes = Buffer.concat(parts);
  const body = Buffer.concat([
    u16(withdrawn.length),
    withdrawn,
    u16(attrBytes.length),
    attrBytes,
    nlri,
  ]);
  const header = Buffer.concat([msg.subarray(0, 16), u16(19 + body.length), Buffer.from([2])]);
  return { bytes: Buffer.concat([header, body]), applied: [...applied].sort() };
}

function u16(n: number): Buffer {
  return Buffer.from([n >> 8, n & 255]);
}

// ---------------------------------------------------------------------------------------------
// The comparator: every key of `expected` maps to a check; an unknown key fails.

type Check<C> = (t: Test, value: unknown, c: C, path: string) => void;
type Table<C> = Record<string, Check<C>>;

/** Keys that only describe (a note, the scenario's tag): checked to be strings, nothing more. */
const informational: Check<unknown> = (t, v, _c, path) => {
  t.type(v, 'string', `${path} is descriptive text`);
};

/** Counts every expected key checked, so the test can report how much it looked at. */
export const tally = { keys: 0 };

function walk<C>(t: Test, expected: Json, table: Table<C>, c: C, path: string): void {
  for (const [key, value] of Object.entries(expected)) {
    const check = table[key];
    if (check === undefined) {
      t.fail(`${path}.${key}: no check knows this expected key (value ${JSON.stringify(value)})`);
      continue;
    }
    tally.keys++;
    check(t, value, c, `${path}.${key}`);
  }
}

// --- OPEN ------------------------------------------------------------------------------------

interface OpenCtx {
  msg: OpenMessage;
  raw: ReturnType<typeof rawCapabilities>;
}

function capsOf<N extends Capability['name']>(
  msg: OpenMessage,
  name: N,
): Extract<Capability, { name: N }>[] {
  return msg.capabilities.filter((c): c is Extract<Capability, { name: N }> => c.name === name);
}

function oneCap<N extends Capability['name']>(
  t: Test,
  msg: OpenMessage,
  name: N,
  path: string,
): Extract<Capability, { name: N }> | undefined {
  const found = capsOf(msg, name);
  t.equal(found.length, 1, `${path}: exactly one ${name} capability`);
  return found[0];
}

function familySet(list: unknown, path: string): string[] {
  return arr(list, path)
    .map((f, i) => family(f, `${path}[${i}]`))
    .map((f) => familyKey(f.afi, f.safi))
    .sort();
}

/** RFC 7911 §4: Send/Receive 1 receive, 2 send, 3 both; index.json says "send-receive". */
const ADD_PATH_MODES: Record<string, string> = {
  receive: 'receive',
  send: 'send',
  'send-receive': 'both',
};
/** RFC 8950 §3: Next Hop AFI. */
const NEXT_HOP_AFI: Record<string, number> = { ipv4: 1, ipv6: 2 };

const GR_TABLE: Table<OpenCtx & { cap: Extract<Capability, { name: 'graceful-restart' }> }> = {
  restartTime: (t, v, c, path) => t.equal(c.cap.restartTime, num(v, path), path),
  families: (t, v, c, path) =>
    t.same(
      c.cap.families.map((f) => familyKey(f.afi, f.safi)).sort(),
      familySet(v, path),
      `${path}: the GR families`,
    ),
  note: informational,
};

const CAPABILITY_TABLE: Table<OpenCtx> = {
  multiprotocol: (t, v, c, path) =>
    t.same(
      capsOf(c.msg, 'multiprotocol')
        .map((m) => familyKey(m.afi, m.safi))
        .sort(),
      familySet(v, path),
      `${path}: one multiprotocol capability per configured family, no other`,
    ),
  routeRefresh: (t, v, c, path) =>
    t.equal(
      c.msg.capabilities.some((x) => x.code === 2),
      bool(v, path),
      `${path}: capability 2 (RFC 2918)`,
    ),
  enhancedRouteRefresh: (t, v, c, path) =>
    t.equal(
      capsOf(c.msg, 'enhanced-route-refresh').length > 0,
      bool(v, path),
      `${path}: capability 70 (RFC 7313)`,
    ),
  extendedMessage: (t, v, c, path) =>
    t.equal(
      capsOf(c.msg, 'extended-message').length > 0,
      bool(v, path),
      `${path}: capability 6 (RFC 8654)`,
    ),
  gracefulRestart: (t, v, c, path) => {
    const cap = oneCap(t, c.msg, 'graceful-restart', path);
    if (cap === undefined) return;
    walk(t, obj(v, path), GR_TABLE, { ...c, cap }, path);
    // RFC 4724 §3 on the wire: Restart Flags (4 bits) + Restart Time (12 bits), then per
    // family AFI (2), SAFI (1), Flags (1) whose high bit is Forwarding State.
    const raw = c.raw.caps.find((x) => x.code === 64);
    if (raw === undefined) return void t.fail(`${path}: no capability 64 on the wire`);
    const word = raw.value.readUInt16BE(0);
    t.equal(cap.restarting, (word & 0x8000) !== 0, `${path}: R flag as on the wire`);
    t.equal(cap.notification, (word & 0x4000) !== 0, `${path}: N flag as on the wire`);
    t.equal(cap.restartTime, word & 0x0fff, `${path}: restart time as on the wire`);
    const wire = [];
    for (let i = 2; i + 4 <= raw.value.length; i += 4)
      wire.push({
        afi: raw.value.readUInt16BE(i),
        safi: raw.value[i + 2],
        forwarding: (raw.value[i + 3] & 0x80) !== 0,
      });
    t.same(cap.families, wire, `${path}: per-family forwarding flags as on the wire`);
  },
  longLivedGracefulRestart: (t, v, c, path) => {
    const cap = oneCap(t, c.msg, 'long-lived-graceful-restart', path);
    if (cap === undefined) return;
    const table: Table<null> = {
      families: (t2, fv, _c, p) =>
        t2.same(
          cap.families.map((f) => familyKey(f.afi, f.safi)).sort(),
          familySet(fv, p),
          `${p}: the LLGR families`,
        ),
      staleTime: (t2, sv, _c, p) => {
        for (const f of cap.families)
          t2.equal(f.staleTime, num(sv, p), `${p} (${f.afi}/${f.safi})`);
      },
      note: informational,
    };
    walk(t, obj(v, path), table, null, path);
    // RFC 9494 §2 on the wire: AFI (2), SAFI (1), Flags (1, F = high bit), Stale Time (3).
    const raw = c.raw.caps.find((x) => x.code === 71);
    if (raw === undefined) return void t.fail(`${path}: no capability 71 on the wire`);
    const wire = [];
    for (let i = 0; i + 7 <= raw.value.length; i += 7)
      wire.push({
        afi: raw.value.readUInt16BE(i),
        safi: raw.value[i + 2],
        forwarding: (raw.value[i + 3] & 0x80) !== 0,
        staleTime: raw.value.readUIntBE(i + 4, 3),
      });
    t.same(cap.families, wire, `${path}: LLGR families, F flags, stale times as on the wire`);
  },
  fourOctetAs: (t, v, c, path) => {
    const caps = capsOf(c.msg, 'four-octet-as');
    if (v === false) {
      // RFC 6793 §4: a 2-octet speaker sends no capability 65.
      t.equal(caps.length, 0, `${path}: no 4-octet AS capability`);
      return;
    }
    t.equal(caps.length, 1, `${path}: one 4-octet AS capability`);
    t.equal(caps[0]?.asn, num(v, path), `${path}: its ASN`);
  },
  addPath: (t, v, c, path) => {
    const cap = oneCap(t, c.msg, 'add-path', path);
    if (cap === undefined) return;
    const want = arr(v, path).map((e, i) => {
      const p = `${path}[${i}]`;
      const o = obj(e, p);
      for (const k of Object.keys(o))
        if (!['family', 'mode', 'note'].includes(k)) t.fail(`${p}.${k}: no check knows this key`);
      const f = family(o.family, `${p}.family`);
      const mode = ADD_PATH_MODES[str(o.mode, `${p}.mode`)];
      if (mode === undefined) t.fail(`${p}.mode: unknown mode ${String(o.mode)}`);
      tally.keys += Object.keys(o).length;
      return `${familyKey(f.afi, f.safi)} ${mode}`;
    });
    t.same(
      cap.families.map((f) => `${familyKey(f.afi, f.safi)} ${f.mode}`).sort(),
      want.sort(),
      `${path}: ADD-PATH families and modes`,
    );
  },
  extendedNextHop: (t, v, c, path) => {
    const cap = oneCap(t, c.msg, 'extended-next-hop', path);
    if (cap === undefined) return;
    const want = arr(v, path).map((e, i) => {
      const p = `${path}[${i}]`;
      const o = obj(e, p);
      for (const k of Object.keys(o))
        if (!['nlri', 'nextHopAfi'].includes(k)) t.fail(`${p}.${k}: no check knows this key`);
      tally.keys += Object.keys(o).length;
      const f = family(o.nlri, `${p}.nlri`);
      const nh = NEXT_HOP_AFI[str(o.nextHopAfi, `${p}.nextHopAfi`)];
      if (nh === undefined) t.fail(`${p}.nextHopAfi: unknown AFI ${String(o.nextHopAfi)}`);
      return `${familyKey(f.afi, f.safi)} nh ${nh}`;
    });
    t.same(
      cap.entries.map((e) => `${familyKey(e.afi, e.safi)} nh ${e.nextHopAfi}`).sort(),
      want.sort(),
      `${path}: RFC 8950 entries`,
    );
  },
  fqdn: (t, v, c, path) => {
    const cap = oneCap(t, c.msg, 'fqdn', path);
    if (cap === undefined) return;
    const table: Table<null> = {
      hostname: (t2, hv, _c, p) => t2.equal(cap.hostname, str(hv, p), p),
      domain: (t2, dv, _c, p) => t2.equal(cap.domain, str(dv, p), p),
    };
    walk(t, obj(v, path), table, null, path);
  },
  none: (t, v, c, path) => {
    t.equal(bool(v, path), true, `${path} is only ever true`);
    t.same(c.msg.capabilities, [], `${path}: no capabilities`);
    t.equal(c.msg.otherParams, undefined, `${path}: no other optional parameters`);
    t.equal(c.raw.paramsLength, 0, `${path}: Optional Parameters Length 0 on the wire`);
  },
  note: informational,
};

/**
 * The configured ASN as the OPEN can show it. RFC 6793 §4.1: it is the 4-octet AS capability's
 * when present; without the capability it is My AS, and RFC 6793 §4.2.2 makes a speaker whose
 * ASN needs 4 octets put AS_TRANS there: the real ASN is then not on the wire at all, and what
 * can be checked is that My AS is AS_TRANS. Returns `configured` when the wire agrees.
 */
export function wireAsn(msg: OpenMessage, configured: number): number {
  const cap = capsOf(msg, 'four-octet-as')[0];
  if (cap !== undefined) return cap.asn;
  if (configured > 0xffff) return msg.myAs === 23456 ? configured : msg.myAs;
  return msg.myAs;
}

/** "Cease / Administrative Shutdown" and "cease/administrative-shutdown" name the same pair. */
export function kebabName(name: string): string {
  return name
    .toLowerCase()
    .replace(/\s*\/\s*/g, '/')
    .replace(/\s+/g, '-');
}

const OPEN_TABLE: Table<OpenCtx> = {
  version: (t, v, c, path) => t.equal(c.msg.version, num(v, path), path),
  myAs: (t, v, c, path) => t.equal(c.msg.myAs, num(v, path), `${path} (AS_TRANS 23456 if 4-octet)`),
  asn: (t, v, c, path) => t.equal(wireAsn(c.msg, num(v, path)), num(v, path), path),
  holdTime: (t, v, c, path) => t.equal(c.msg.holdTime, num(v, path), path),
  routerId: (t, v, c, path) => t.equal(c.msg.routerId, str(v, path), path),
  capabilities: (t, v, c, path) => walk(t, obj(v, path), CAPABILITY_TABLE, c, path),
};

// --- UPDATE ----------------------------------------------------------------------------------

/** One announced or withdrawn prefix as decoded, with where it sat. */
export interface DecodedPrefix {
  prefix: string;
  pathId: number | null;
  family: string;
  /** 'nlri'/'withdrawn' for the IPv4 fields, 'mp' for MP_REACH/MP_UNREACH. */
  field: 'nlri' | 'withdrawn' | 'mp';
}

function listPrefixes(list: PrefixList | null, field: DecodedPrefix['field']): DecodedPrefix[] {
  if (list === null) return [];
  const names = prefixListToStrings(list);
  return names.map((prefix, i) => ({
    prefix,
    pathId: list.pathIds === null ? null : list.pathIds[i],
    family: list.afi === 1 ? 'ipv4-unicast' : 'ipv6-unicast',
    field,
  }));
}

export function announced(msg: UpdateMessage): DecodedPrefix[] {
  return [
    ...listPrefixes(msg.nlri, 'nlri'),
    ...listPrefixes(msg.attributes.mpReach?.nlri ?? null, 'mp'),
  ];
}

export function withdrawnOf(msg: UpdateMessage): DecodedPrefix[] {
  return [
    ...listPrefixes(msg.withdrawn, 'withdrawn'),
    ...listPrefixes(msg.attributes.mpUnreach?.withdrawn ?? null, 'mp'),
  ];
}

/** "prefix" or "prefix#pathId", the form observed.prefixes uses. */
export function prefixKey(p: { prefix: string; pathId: number | null }): string {
  return p.pathId === null ? p.prefix : `${p.prefix}#${p.pathId}`;
}

interface UpdateCtx {
  msg: UpdateMessage;
  wire: Buffer;
  raw: ReturnType<typeof rawUpdate>;
  observed: Json;
}

interface RouteCtx extends UpdateCtx {
  route: Json;
  decoded: DecodedPrefix;
  attrs: PathAttributes;
}

const ORIGINS: Record<string, number> = { igp: 0, egp: 1, incomplete: 2 };
const SEGMENT_TYPES: Record<string, number> = { set: 1, sequence: 2 };

/** AS path in a comparable form: sequences in order, the members of a set sorted (README). */
function pathForm(segs: readonly { type: number; asns: readonly number[] }[]): string[] {
  return segs.map((s) =>
    s.type === 1
      ? `set{${[...s.asns].sort((a, b) => a - b).join(',')}}`
      : `${s.type === 2 ? 'seq' : `type${s.type}`}(${s.asns.join(',')})`,
  );
}
function expectedPath(v: unknown, path: string): string[] {
  return pathForm(
    arr(v, path).map((s, i) => {
      const p = `${path}[${i}]`;
      const o = obj(s, p);
      const type = SEGMENT_TYPES[str(o.type, `${p}.type`)];
      if (type === undefined) fail(`${p}.type`, `unknown segment type ${String(o.type)}`);
      return { type, asns: arr(o.asns, `${p}.asns`).map((a, j) => num(a, `${p}.asns[${j}]`)) };
    }),
  );
}

/** Well-known communities by name: RFC 1997 §3, RFC 3765 §2, RFC 7999 §5, RFC 8326 §5. */
const WELL_KNOWN: Record<string, number> = {
  'no-export': 0xffffff01,
  'no-advertise': 0xffffff02,
  'no-export-subconfed': 0xffffff03,
  'no-peer': 0xffffff04,
  blackhole: 0xffff029a,
  'graceful-shutdown': 0xffff0000,
};
export function communityValue(text: string, path: string): number {
  const known = WELL_KNOWN[text];
  if (known !== undefined) return known;
  const m = /^(\d+):(\d+)$/.exec(text);
  if (m === null || Number(m[1]) > 0xffff || Number(m[2]) > 0xffff)
    fail(path, `not a community: ${text}`);
  return Number(m[1]) * 65536 + Number(m[2]);
}

/** RFC 4360 §3 / RFC 5668 §2 / RFC 7153: low 6 bits of the type; subtype 2 RT, 3 RO. */
const EXT_ENCODINGS: Record<number, string> = { 0: 'two-octet-as', 1: 'ipv4', 2: 'four-octet-as' };
const EXT_KINDS: Record<number, string> = { 2: 'route-target', 3: 'route-origin' };

function rawAttr(c: UpdateCtx, code: number): RawAttr | undefined {
  return c.raw.attrs.find((a) => a.code === code);
}

function isIpv6(text: string): boolean {
  return text.includes(':');
}

const NEXT_HOP_ENCODINGS: Record<string, (t: Test, c: RouteCtx, path: string) => void> = {
  // RFC 4271 §5.1.3: IPv4 NLRI field with the NEXT_HOP attribute.
  'NEXT_HOP attribute': (t, c, path) => {
    t.equal(c.decoded.field, 'nlri', `${path}: prefix in the IPv4 NLRI field`);
    t.type(c.attrs.nextHop, 'string', `${path}: NEXT_HOP present`);
  },
  // RFC 4760 §3: IPv6 NLRI in MP_REACH_NLRI.
  MP_REACH_NLRI: (t, c, path) => {
    t.equal(c.decoded.field, 'mp', `${path}: prefix in MP_REACH_NLRI`);
    t.equal(c.attrs.mpReach?.afi, 2, `${path}: AFI 2`);
    t.equal(c.attrs.mpReach?.safi, 1, `${path}: SAFI 1`);
  },
  // RFC 8950 §4: IPv4 NLRI in MP_REACH_NLRI with an IPv6 next hop.
  'MP_REACH_NLRI IPv6 next hop for IPv4 NLRI (RFC 8950)': (t, c, path) => {
    t.equal(c.decoded.field, 'mp', `${path}: prefix in MP_REACH_NLRI`);
    t.equal(c.attrs.mpReach?.afi, 1, `${path}: AFI 1`);
    t.equal(c.attrs.mpReach?.safi, 1, `${path}: SAFI 1`);
    t.ok(
      (c.attrs.mpReach?.nextHops ?? []).every(isIpv6),
      `${path}: the next hops are IPv6 addresses`,
    );
  },
};

const ROUTE_TABLE: Table<RouteCtx> = {
  prefix: (t, v, c, path) => t.equal(c.decoded.prefix, str(v, path), path),
  family: (t, v, c, path) => t.equal(c.decoded.family, str(v, path), path),
  origin: (t, v, c, path) => {
    const want = ORIGINS[str(v, path)];
    if (want === undefined) fail(path, `unknown origin ${String(v)}`);
    t.equal(c.attrs.origin, want, path);
  },
  asPath: (t, v, c, path) => {
    t.ok(c.attrs.asPath !== undefined, `${path}: AS_PATH present`);
    t.same(
      pathForm(c.attrs.asPath?.segments ?? []),
      expectedPath(v, path),
      `${path} (4-octet view)`,
    );
  },
  // RFC 6793 §4.2.2: the AS_PATH on a 2-octet session, ASNs above 65535 as AS_TRANS. The
  // decoded message keeps only the merged path, so this is read from the wire (2-octet ASNs)
  // and also derived from the merged path the way an encoder must send it.
  as2AsPath: (t, v, c, path) => {
    const want = expectedPath(v, path);
    const raw = rawAttr(c, 2);
    if (raw === undefined) return void t.fail(`${path}: no AS_PATH on the wire`);
    t.same(pathForm(rawAsPath(raw.value, 2)), want, `${path}: on the wire`);
    const sent = (c.attrs.asPath?.segments ?? []).map((s) => ({
      type: s.type,
      asns: s.asns.map((a) => (a > 0xffff ? 23456 : a)),
    }));
    t.same(pathForm(sent), want, `${path}: the merged path mapped to AS_TRANS gives it back`);
  },
  as4PathExpected: (t, v, c, path) => {
    const want = bool(v, path);
    t.equal(rawAttr(c, 17) !== undefined, want, `${path}: AS4_PATH on the wire`);
    t.equal(c.attrs.as4Path !== undefined, want, `${path}: AS4_PATH decoded and kept`);
    const raw = rawAttr(c, 17);
    if (raw !== undefined && c.attrs.as4Path !== undefined)
      t.same(
        pathForm(c.attrs.as4Path.segments),
        pathForm(rawAsPath(raw.value, 4)),
        `${path}: AS4_PATH as on the wire`,
      );
  },
  nextHopEncoding: (t, v, c, path) => {
    const check = NEXT_HOP_ENCODINGS[str(v, path)];
    if (check === undefined) return void t.fail(`${path}: no check knows encoding ${String(v)}`);
    check(t, c, path);
  },
  nextHop: (t, v, c, path) => {
    const enc = c.route.nextHopEncoding;
    if (enc === 'NEXT_HOP attribute') {
      t.equal(c.attrs.nextHop, str(v, path), path);
      return;
    }
    const hops = c.attrs.mpReach?.nextHops;
    if (typeof v === 'string') {
      t.same(hops, [v], `${path}: the one MP_REACH next hop`);
      return;
    }
    const o = obj(v, path);
    for (const k of Object.keys(o))
      if (!['global', 'linkLocal'].includes(k)) t.fail(`${path}.${k}: no check knows this key`);
    tally.keys += Object.keys(o).length;
    // README: the link-local address is the sender's interface address; it is on the wire
    // only when the daemon sent a 32-octet next hop (observed.mpReachNextHopLength).
    const len = c.observed.mpReachNextHopLength;
    const want =
      len === 32
        ? [str(o.global, `${path}.global`), str(o.linkLocal, `${path}.linkLocal`)]
        : [str(o.global, `${path}.global`)];
    t.same(hops, want, `${path}: MP_REACH next hops (${String(len)} octets on the wire)`);
  },
  med: (t, v, c, path) => t.equal(c.attrs.med, num(v, path), path),
  medAnyOf: (t, v, c, path) => {
    const any = arr(v, path).map((m, i) => num(m, `${path}[${i}]`));
    t.ok(c.attrs.med !== undefined && any.includes(c.attrs.med), `${path}: MED ${c.attrs.med}`);
  },
  localPref: (t, v, c, path) => t.equal(c.attrs.localPref, num(v, path), path),
  communities: (t, v, c, path) =>
    t.same(
      [...(c.attrs.communities ?? [])].sort((a, b) => a - b),
      arr(v, path)
        .map((x, i) => communityValue(str(x, `${path}[${i}]`), `${path}[${i}]`))
        .sort((a, b) => a - b),
      `${path} (values; well-known names per their RFCs)`,
    ),
  largeCommunities: (t, v, c, path) =>
    t.same(
      (c.attrs.largeCommunities ?? []).map((l) => l.join(':')).sort(),
      arr(v, path)
        .map((x, i) => str(x, `${path}[${i}]`))
        .sort(),
      path,
    ),
  extendedCommunities: (t, v, c, path) => {
    const want = arr(v, path).map((e, i) => {
      const p = `${path}[${i}]`;
      const o = obj(e, p);
      for (const k of Object.keys(o))
        if (!['kind', 'encoding', 'global', 'local'].includes(k))
          t.fail(`${p}.${k}: no check knows this key`);
      tally.keys += Object.keys(o).length;
      return JSON.stringify([str(o.kind, p), str(o.encoding, p), o.global, num(o.local, p)]);
    });
    const decoded = (c.attrs.extendedCommunities ?? []).map((x) => {
      // The typed view must agree with the octets: type low 6 bits, subtype (RFC 7153).
      const encoding = EXT_ENCODINGS[x.raw[0] & 0x3f] ?? `type-${x.raw[0]}`;
      const kind = EXT_KINDS[x.raw[1]] ?? `subtype-${x.raw[1]}`;
      t.equal(x.kind, kind, `${path}: typed kind agrees with subtype ${x.raw[1]}`);
      return JSON.stringify([kind, encoding, x.global, x.local]);
    });
    t.same(decoded.sort(), want.sort(), path);
  },
  atomicAggregate: (t, v, c, path) =>
    t.equal(c.attrs.atomicAggregate === true, bool(v, path), path),
  aggregator: (t, v, c, path) => {
    const o = obj(v, path);
    tally.keys += Object.keys(o).length;
    t.same(c.attrs.aggregator, { asn: num(o.asn, path), address: str(o.address, path) }, path);
  },
  // RFC 6793 §4.2.2: the AGGREGATOR on a 2-octet session (2-octet ASN, AS_TRANS), from the wire.
  as2Aggregator: (t, v, c, path) => {
    const o = obj(v, path);
    tally.keys += Object.keys(o).length;
    const raw = rawAttr(c, 7);
    if (raw === undefined) return void t.fail(`${path}: no AGGREGATOR on the wire`);
    t.equal(raw.value.length, 6, `${path}: 6 octets on a 2-octet session`);
    t.same(
      { asn: raw.value.readUInt16BE(0), address: [...raw.value.subarray(2, 6)].join('.') },
      { asn: num(o.asn, path), address: str(o.address, path) },
      path,
    );
  },
  as4AggregatorExpected: (t, v, c, path) => {
    const want = bool(v, path);
    t.equal(rawAttr(c, 18) !== undefined, want, `${path}: AS4_AGGREGATOR on the wire`);
    t.equal(c.attrs.as4Aggregator !== undefined, want, `${path}: AS4_AGGREGATOR decoded`);
  },
  originatorId: (t, v, c, path) => t.equal(c.attrs.originatorId, str(v, path), path),
  clusterList: (t, v, c, path) =>
    t.same(
      c.attrs.clusterList,
      arr(v, path).map((x, i) => str(x, `${path}[${i}]`)),
      path,
    ),
  unknownAttributes: (t, v, c, path) =>
    t.same(
      (c.attrs.unknown ?? []).map((u) => ({
        code: u.code,
        flags: u.flags,
        hex: u.value.toString('hex'),
      })),
      arr(v, path).map((u, i) => {
        const o = obj(u, `${path}[${i}]`);
        tally.keys += Object.keys(o).length;
        return {
          code: num(o.code, path),
          flags: num(o.flags, path),
          hex: str(o.hex, path),
        };
      }),
      path,
    ),
  pathId: (t, v, c, path) => t.equal(c.decoded.pathId, num(v, path), `${path} (RFC 7911)`),
  pathIdAnyOf: (t, v, c, path) => {
    const any = arr(v, path).map((m, i) => num(m, `${path}[${i}]`));
    t.ok(
      c.decoded.pathId !== null && any.includes(c.decoded.pathId),
      `${path}: ${c.decoded.pathId}`,
    );
  },
  tag: informational,
  note: informational,
};

/**
 * Decoded attributes that must each be accounted for by an expected key (README: "things the
 * configs do not fix" are only AS_SET order, path ids and link-local addresses, so any other
 * attribute on the wire is in `expected`).
 */
const ATTRIBUTE_KEYS: [keyof PathAttributes, string[]][] = [
  ['med', ['med', 'medAnyOf']],
  ['localPref', ['localPref']],
  ['communities', ['communities']],
  ['largeCommunities', ['largeCommunities']],
  ['extendedCommunities', ['extendedCommunities']],
  ['atomicAggregate', ['atomicAggregate']],
  ['aggregator', ['aggregator']],
  ['originatorId', ['originatorId']],
  ['clusterList', ['clusterList']],
  ['unknown', ['unknownAttributes']],
  ['as4Path', ['as4PathExpected']],
  ['as4Aggregator', ['as4AggregatorExpected']],
];

function checkRoutes(t: Test, v: unknown, c: UpdateCtx, path: string): void {
  const routes = arr(v, path).map((r, i) => obj(r, `${path}[${i}]`));
  const decoded = announced(c.msg);
  t.same(
    decoded.map((d) => d.prefix).sort(),
    routes.map((r, i) => str(r.prefix, `${path}[${i}].prefix`)).sort(),
    `${path}: exactly these prefixes are announced`,
  );
  routes.forEach((route, i) => {
    const p = `${path}[${i}]`;
    const wantId = typeof route.pathId === 'number' ? route.pathId : null;
    const d =
      decoded.find((x) => x.prefix === route.prefix && (wantId === null || x.pathId === wantId)) ??
      decoded.find((x) => x.prefix === route.prefix);
    if (d === undefined) return void t.fail(`${p}: ${String(route.prefix)} not announced`);
    const rc: RouteCtx = { ...c, route, decoded: d, attrs: c.msg.attributes };
    walk(t, route, ROUTE_TABLE, rc, p);
    for (const [field, keys] of ATTRIBUTE_KEYS) {
      if (c.msg.attributes[field] !== undefined && !keys.some((k) => k in route))
        t.fail(`${p}: decoded ${field} ${JSON.stringify(c.msg.attributes[field])} not expected`);
    }
  });
}

const UPDATE_TABLE: Table<UpdateCtx> = {
  endOfRib: (t, v, c, path) => {
    const fam = family(v, path);
    t.equal(c.msg.endOfRib, str(v, path), path);
    // RFC 4724 §2 on the wire: IPv4 is the UPDATE with no withdrawn routes, attributes or
    // NLRI; any other family is an UPDATE with only an empty MP_UNREACH_NLRI for it.
    if (fam.afi === 1 && fam.safi === 1 && c.raw.attrs.length === 0) {
      t.equal(c.wire.length, 23, `${path}: the 23-octet empty UPDATE`);
    } else {
      t.same(
        c.raw.attrs.map((a) => [a.code, a.value.toString('hex')]),
        [[15, Buffer.from([fam.afi >> 8, fam.afi & 255, fam.safi]).toString('hex')]],
        `${path}: one empty MP_UNREACH_NLRI`,
      );
    }
  },
  routes: checkRoutes,
  withdrawn: (t, v, c, path) => {
    const want = arr(v, path).map((w, i) => {
      const p = `${path}[${i}]`;
      const o = obj(w, p);
      for (const k of Object.keys(o))
        if (!['prefix', 'pathId'].includes(k)) t.fail(`${p}.${k}: no check knows this key`);
      tally.keys += Object.keys(o).length;
      return prefixKey({
        prefix: str(o.prefix, `${p}.prefix`),
        pathId: o.pathId === undefined ? null : num(o.pathId, `${p}.pathId`),
      });
    });
    t.same(withdrawnOf(c.msg).map(prefixKey).sort(), want.sort(), `${path}: withdrawn prefixes`);
  },
};

// --- NOTIFICATION, ROUTE-REFRESH ---------------------------------------------------------------

interface SimpleCtx<M> {
  msg: M;
  f: FixtureEntry;
}

type NotificationMsg = Extract<BgpMessage, { type: 'notification' }>;
type RouteRefreshMsg = Extract<BgpMessage, { type: 'route-refresh' }>;

const NOTIFICATION_TABLE: Table<SimpleCtx<NotificationMsg>> = {
  code: (t, v, c, path) => t.equal(c.msg.code, num(v, path), path),
  subcode: (t, v, c, path) => t.equal(c.msg.subcode, num(v, path), path),
  // RFC 9003 §2: the shutdown communication the command gave.
  message: (t, v, c, path) => t.equal(c.msg.message, str(v, path), `${path} (RFC 9003)`),
  // index.json writes the name in kebab case; the JSON form in words: same code/subcode names.
  name: (t, v, c, path) =>
    t.equal(
      kebabName(notificationName(c.msg.code, c.msg.subcode)),
      str(v, path),
      `${path} (JSON name, kebab-cased)`,
    ),
  session: (t, v, c, path) => t.equal(str(v, path), c.f.session, `${path}: the fixture's session`),
  note: informational,
};

const ROUTE_REFRESH_TABLE: Table<SimpleCtx<RouteRefreshMsg>> = {
  afi: (t, v, c, path) => t.equal(c.msg.afi, num(v, path), path),
  safi: (t, v, c, path) => t.equal(c.msg.safi, num(v, path), path),
  // RFC 7313 §3.2: 0 normal request, 1 BoRR, 2 EoRR.
  subtype: (t, v, c, path) => t.equal(c.msg.subtype, num(v, path), `${path} (RFC 7313)`),
  note: informational,
};

/**
 * Checks a decoded message against its fixture's `expected`, key by key. Also checks, for
 * UPDATEs, that announcements/withdrawals not mentioned in `expected` are absent.
 */
export function checkExpected(t: Test, f: FixtureEntry, msg: BgpMessage, wire: Buffer): void {
  const path = 'expected';
  switch (msg.type) {
    case 'open':
      walk(t, f.expected, OPEN_TABLE, { msg, raw: rawCapabilities(wire) }, path);
      return;
    case 'update': {
      const c: UpdateCtx = { msg, wire, raw: rawUpdate(wire), observed: f.observed };
      walk(t, f.expected, UPDATE_TABLE, c, path);
      if (!('routes' in f.expected)) t.same(announced(msg), [], 'nothing announced');
      if (!('withdrawn' in f.expected)) t.same(withdrawnOf(msg), [], 'nothing withdrawn');
      if (!('endOfRib' in f.expected)) t.equal(msg.endOfRib, undefined, 'not an End-of-RIB');
      if (!('routes' in f.expected)) {
        const { mpUnreach: _mu, ...rest } = msg.attributes;
        t.same(rest, {}, 'no path attributes besides MP_UNREACH_NLRI');
      }
      t.equal(msg.errors, undefined, 'no RFC 7606 errors');
      return;
    }
    case 'notification':
      walk(t, f.expected, NOTIFICATION_TABLE, { msg, f }, path);
      return;
    case 'route-refresh':
      walk(t, f.expected, ROUTE_REFRESH_TABLE, { msg, f }, path);
      return;
    case 'keepalive':
      // RFC 4271 §4.4: a KEEPALIVE is the header alone; nothing is configured about it.
      t.same(f.expected, {}, 'KEEPALIVE: nothing expected');
      t.equal(wire.length, 19, 'KEEPALIVE is 19 octets');
      return;
  }
}

// --- observed: the capture script's own splitter -----------------------------------------------

const ATTRIBUTE_CODES: [keyof PathAttributes, number][] = [
  ['origin', 1],
  ['asPath', 2],
  ['nextHop', 3],
  ['med', 4],
  ['localPref', 5],
  ['atomicAggregate', 6],
  ['aggregator', 7],
  ['communities', 8],
  ['originatorId', 9],
  ['clusterList', 10],
  ['mpReach', 14],
  ['mpUnreach', 15],
  ['extendedCommunities', 16],
  ['as4Path', 17],
  ['as4Aggregator', 18],
  ['largeCommunities', 32],
];

/** The type codes of the attributes a decoded UPDATE holds. */
export function decodedAttributeCodes(a: PathAttributes): number[] {
  const codes = ATTRIBUTE_CODES.filter(([k]) => a[k] !== undefined).map(([, c]) => c);
  for (const u of a.unknown ?? []) codes.push(u.code);
  return codes.sort((x, y) => x - y);
}

/**
 * Cross-checks the decoded message against `observed` (the capture script's independent
 * splitter: lengths, codes, prefixes). Unknown keys fail, as for `expected`.
 */
export function checkObserved(t: Test, f: FixtureEntry, msg: BgpMessage, wire: Buffer): void {
  const table: Table<null> = {
    length: (t2, v, _c, p) => {
      t2.equal(wire.length, num(v, p), `${p}: file length`);
      t2.equal(wire.readUInt16BE(16), num(v, p), `${p}: header Length field`);
    },
    attributeCodes: (t2, v, _c, p) => {
      const codes = arr(v, p).map((x, i) => num(x, `${p}[${i}]`));
      if (msg.type !== 'update') return void t2.fail(`${p} on a ${msg.type}`);
      t2.same(
        rawUpdate(wire).attrs.map((a) => a.code),
        codes,
        `${p}: the test's own walker agrees on wire order`,
      );
      t2.same(
        decodedAttributeCodes(msg.attributes),
        [...codes].sort((a, b) => a - b),
        `${p}: every attribute on the wire was decoded`,
      );
    },
    prefixes: (t2, v, _c, p) => {
      if (msg.type !== 'update') return void t2.fail(`${p} on a ${msg.type}`);
      t2.same(announced(msg).map(prefixKey), arr(v, p), `${p}: announced, in wire order`);
    },
    withdrawn: (t2, v, _c, p) => {
      if (msg.type !== 'update') return void t2.fail(`${p} on a ${msg.type}`);
      t2.same(withdrawnOf(msg).map(prefixKey), arr(v, p), `${p}: withdrawn, in wire order`);
    },
    mpReachNextHopLength: (t2, v, _c, p) => {
      if (msg.type !== 'update') return void t2.fail(`${p} on a ${msg.type}`);
      const hops = msg.attributes.mpReach?.nextHops ?? [];
      // RFC 4760 §3 / RFC 2545 §3: 16 octets = one IPv6 address, 32 = global + link-local.
      const octets = hops.reduce((n, h) => n + (isIpv6(h) ? 16 : 4), 0);
      t2.equal(octets, num(v, p), `${p}: next hops decoded ${JSON.stringify(hops)}`);
    },
    capabilityCodes: (t2, v, _c, p) => {
      if (msg.type !== 'open') return void t2.fail(`${p} on a ${msg.type}`);
      t2.same(
        msg.capabilities.map((c) => c.code),
        arr(v, p),
        `${p}: decoded in wire order`,
      );
    },
    code: (t2, v, _c, p) => {
      if (msg.type !== 'notification') return void t2.fail(`${p} on a ${msg.type}`);
      t2.equal(msg.code, num(v, p), p);
    },
    subcode: (t2, v, _c, p) => {
      if (msg.type !== 'notification') return void t2.fail(`${p} on a ${msg.type}`);
      t2.equal(msg.subcode, num(v, p), p);
    },
  };
  walk(t, f.observed, table, null, 'observed');
}
