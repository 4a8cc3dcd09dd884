// Captures real BGP messages from real daemons (BIRD, FRR, GoBGP, OpenBGPD, ExaBGP) peering in
// network namespaces and writes them to fixtures/ as hex, with fixtures/index.json holding what
// each daemon was CONFIGURED to send. Run by hand as root: `npx tsx scripts/capture-fixtures.ts`.
// Not a test. Uses its own tiny framing (RFC 4271 §4.1) and NLRI sniffing (RFC 4760, RFC 7911)
// only to name and sort messages; it must never import the project's codec.
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Cleanup,
  connect,
  makeNode,
  missingReason,
  sleep,
  startBird,
  startExabgp,
  startFrr,
  startGobgp,
  startOpenbgpd,
  startTcpdump,
  versionOf,
  type BgpFlow,
  type DaemonName,
  type Link,
  type TcpdumpHandle,
} from '../test/interop/lib/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const FIXTURES = join(ROOT, 'fixtures');
const CONFIGS = join(FIXTURES, 'configs');
const AS_TRANS = 23456; // RFC 6793 §9

// ---------------------------------------------------------------------------------------------
// What the daemons are configured to send

type Family = 'ipv4-unicast' | 'ipv6-unicast';
interface Segment {
  type: 'sequence' | 'set';
  asns: number[];
}
interface ExtCommunity {
  /** route-target / route-origin, as configured. */
  kind: 'route-target' | 'route-origin';
  /** Encoding that the value forces (RFC 4360 §3.1/§3.2, RFC 5668). */
  encoding: 'two-octet-as' | 'four-octet-as' | 'ipv4';
  global: number | string;
  local: number;
}
interface UnknownAttr {
  code: number;
  flags: number;
  hex: string;
}

/** One configured route of one speaker. Unset fields mean "not configured". */
interface RouteSpec {
  prefix: string;
  /** Short name used in fixture file names. */
  tag: string;
  origin?: 'igp' | 'egp' | 'incomplete';
  /** AS path as originated; an eBGP sender prepends its own ASN (computed per session). */
  path?: Segment[];
  /** Overrides the computed path entirely (aggregates whose path the daemon builds). */
  fullPath?: Segment[];
  med?: number;
  /** ADD-PATH: each path carries one of these MEDs. */
  medAnyOf?: number[];
  /** ADD-PATH: path identifiers fixed by the config (ExaBGP path-information). */
  pathIdAnyOf?: number[];
  localPref?: number;
  communities?: string[];
  largeCommunities?: string[];
  extendedCommunities?: ExtCommunity[];
  atomicAggregate?: boolean;
  aggregator?: { asn: number; address: string };
  originatorId?: string;
  clusterList?: string[];
  /** Explicit next hop (e.g. reflected routes keep the originator's). */
  nextHop?: string;
  unknownAttributes?: UnknownAttr[];
  /** Only on these sessions (tags); default all sessions of the speaker with the family. */
  sessions?: string[];
  note?: string;
}

interface Speaker {
  label: string;
  daemon: DaemonName;
  asn: number;
  routerId: string;
  holdTime: number;
  /** Capabilities the config asks for (see fixtures/README.md for the meaning of each field). */
  capabilities: (session: SessionSpec, me: Speaker) => Record<string, unknown>;
  routes: RouteSpec[];
}

interface SessionEnd {
  speaker: Speaker;
  address: string;
  linkLocal?: string;
}

interface SessionSpec {
  tag: string;
  a: SessionEnd;
  b: SessionEnd;
  families: Family[];
  /** Both sides negotiate 4-octet AS (RFC 6793). */
  as4: boolean;
  /** Families where ADD-PATH is in effect, per sending speaker label (RFC 7911 §4). */
  addPath: Record<string, Family[]>;
  /** RFC 8950 IPv4 NLRI with IPv6 next hops. */
  extendedNextHop?: boolean;
  rr?: Record<string, { clusterId: string }>;
}

interface Phase {
  name: string;
  start: number;
  end: number;
}

interface Scenario {
  name: string;
  description: string;
  speakers: Speaker[];
  sessions: SessionSpec[];
  phases: Phase[];
  flows: BgpFlow[];
  configs: Record<string, string>;
  /** Expected NOTIFICATION per sending speaker label. */
  shutdown?: Record<string, Record<string, unknown>>;
  skipped?: string;
}

// ---------------------------------------------------------------------------------------------
// Tiny UPDATE sniffer: which prefixes, which families, which attribute type codes.

interface Sniffed {
  withdrawn: string[];
  nlri: string[];
  mpReach?: { afi: number; safi: number; nextHopLength: number; nlri: string[] };
  mpUnreach?: { afi: number; safi: number; withdrawn: string[] };
  attrCodes: number[];
}

function prefixText(afi: number, bytes: Buffer, len: number): string {
  if (afi === 1) {
    const b = [0, 0, 0, 0].map((_, i) => bytes[i] ?? 0);
    return `${b.join('.')}/${len}`;
  }
  const full = Buffer.alloc(16);
  bytes.copy(full);
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(full.readUInt16BE(i).toString(16));
  let text = groups.join(':');
  text = text.replace(/(^|:)0(:0)+(:|$)/, '::').replace(/:{3,}/, '::');
  return `${text}/${len}`;
}

function sniffPrefixes(buf: Buffer, afi: number, addPath: boolean): string[] {
  const out: string[] = [];
  let off = 0;
  while (off < buf.length) {
    let id = '';
    if (addPath) {
      id = `#${buf.readUInt32BE(off)}`;
      off += 4;
    }
    const len = buf[off];
    const n = Math.ceil(len / 8);
    out.push(prefixText(afi, buf.subarray(off + 1, off + 1 + n), len) + id);
    off += 1 + n;
  }
  return out;
}

function sniffUpdate(msg: Buffer, addPath: Family[]): Sniffed {
  const ap4 = addPath.includes('ipv4-unicast');
  const ap6 = addPath.includes('ipv6-unicast');
  let off = 19;
  const wlen = msg.readUInt16BE(off);
  const withdrawn = sniffPrefixes(msg.subarray(off + 2, off + 2 + wlen), 1, ap4);
  off += 2 + wlen;
  const alen = msg.readUInt16BE(off);
  off += 2;
  const end = off + alen;
  const out: Sniffed = { withdrawn, nlri: [], attrCodes: [] };
  while (off < end) {
    const flags = msg[off];
    const code = msg[off + 1];
    const ext = (flags & 0x10) !== 0;
    const len = ext ? msg.readUInt16BE(off + 2) : msg[off + 2];
    const v = msg.subarray(off + (ext ? 4 : 3), off + (ext ? 4 : 3) + len);
    out.attrCodes.push(code);
    if (code === 14) {
      const afi = v.readUInt16BE(0);
      const nhl = v[3];
      out.mpReach = {
        afi,
        safi: v[2],
        nextHopLength: nhl,
        nlri: sniffPrefixes(v.subarray(5 + nhl), afi, afi === 1 ? ap4 : ap6),
      };
    } else if (code === 15) {
      const afi = v.readUInt16BE(0);
      out.mpUnreach = {
        afi,
        safi: v[2],
        withdrawn: sniffPrefixes(v.subarray(3), afi, afi === 1 ? ap4 : ap6),
      };
    }
    off += (ext ? 4 : 3) + len;
  }
  out.nlri = sniffPrefixes(msg.subarray(end), 1, ap4);
  return out;
}

/** Capability codes of an OPEN, in order, walking RFC 5492 parameters (and RFC 9072 extended ones). */
function sniffOpenCapabilities(msg: Buffer): number[] {
  let optLen = msg[28];
  let off = 29;
  let extended = false;
  if (optLen === 255 && msg[29] === 255) {
    extended = true;
    optLen = msg.readUInt16BE(30);
    off = 32;
  }
  const end = off + optLen;
  const codes: number[] = [];
  while (off < end) {
    const ptype = msg[off];
    const plen = extended ? msg.readUInt16BE(off + 1) : msg[off + 1];
    const pstart = off + (extended ? 3 : 2);
    if (ptype === 2) {
      let c = pstart;
      while (c < pstart + plen) {
        codes.push(msg[c]);
        c += 2 + msg[c + 1];
      }
    }
    off = pstart + plen;
  }
  return codes;
}

// ---------------------------------------------------------------------------------------------
// Expected values for one message, from the config.

function familyOfPrefix(p: string): Family {
  return p.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast';
}

function stripPathId(p: string): { prefix: string; pathId?: number } {
  const i = p.indexOf('#');
  return i < 0 ? { prefix: p } : { prefix: p.slice(0, i), pathId: Number(p.slice(i + 1)) };
}

function ebgp(s: SessionSpec): boolean {
  return s.a.speaker.asn !== s.b.speaker.asn;
}

function expectedPath(route: RouteSpec, sender: Speaker, session: SessionSpec): Segment[] {
  if (route.fullPath) return route.fullPath;
  const base = route.path ?? [];
  if (!ebgp(session)) return base;
  // RFC 4271 §5.1.2: an eBGP speaker prepends its own AS to the leftmost AS_SEQUENCE.
  if (base[0]?.type === 'sequence')
    return [{ type: 'sequence', asns: [sender.asn, ...base[0].asns] }, ...base.slice(1)];
  return [{ type: 'sequence', asns: [sender.asn] }, ...base];
}

function as2View(path: Segment[]): Segment[] {
  return path.map((s) => ({ type: s.type, asns: s.asns.map((a) => (a > 0xffff ? AS_TRANS : a)) }));
}

function routeExpectation(
  route: RouteSpec,
  from: SessionEnd,
  to: SessionEnd,
  session: SessionSpec,
): Record<string, unknown> {
  const path = expectedPath(route, from.speaker, session);
  const isEbgp = ebgp(session);
  const fam = familyOfPrefix(route.prefix);
  const overV6 = from.address.includes(':');
  let nextHop: unknown;
  if (route.nextHop) nextHop = route.nextHop;
  else if (!overV6) nextHop = from.address;
  else nextHop = { global: from.address, linkLocal: from.linkLocal };
  const e: Record<string, unknown> = {
    prefix: route.prefix,
    family: fam,
    origin: route.origin ?? 'igp',
    asPath: path,
    nextHop,
    nextHopEncoding:
      fam === 'ipv4-unicast' && overV6
        ? 'MP_REACH_NLRI IPv6 next hop for IPv4 NLRI (RFC 8950)'
        : fam === 'ipv4-unicast'
          ? 'NEXT_HOP attribute'
          : 'MP_REACH_NLRI',
  };
  if (!session.as4 && path.some((s) => s.asns.some((a) => a > 0xffff))) {
    e.as2AsPath = as2View(path);
    e.as4PathExpected = true;
  }
  if (route.med !== undefined) e.med = route.med;
  if (route.medAnyOf) e.medAnyOf = route.medAnyOf;
  if (route.pathIdAnyOf) e.pathIdAnyOf = route.pathIdAnyOf;
  if (!isEbgp) e.localPref = route.localPref ?? 100;
  if (route.communities) e.communities = route.communities;
  if (route.largeCommunities) e.largeCommunities = route.largeCommunities;
  if (route.extendedCommunities) e.extendedCommunities = route.extendedCommunities;
  if (route.atomicAggregate) e.atomicAggregate = true;
  if (route.aggregator) {
    e.aggregator = route.aggregator;
    if (!session.as4 && route.aggregator.asn > 0xffff) {
      e.as2Aggregator = { asn: AS_TRANS, address: route.aggregator.address };
      e.as4AggregatorExpected = true;
    }
  }
  const rr = session.rr?.[from.speaker.label];
  if (route.originatorId) e.originatorId = route.originatorId;
  if (route.clusterList) e.clusterList = route.clusterList;
  else if (rr && route.originatorId) e.clusterList = [rr.clusterId];
  if (route.unknownAttributes) e.unknownAttributes = route.unknownAttributes;
  if (route.note) e.note = route.note;
  void to;
  return e;
}

// ---------------------------------------------------------------------------------------------
// Turning captured flows into fixtures.

interface IndexEntry {
  file: string;
  daemon: DaemonName;
  version: string;
  type: 'open' | 'update' | 'notification' | 'keepalive' | 'route-refresh';
  kind: string;
  scenario: string;
  session: string;
  from: { daemon: DaemonName; speaker: string; address: string; asn: number };
  to: { daemon: DaemonName; speaker: string; address: string; asn: number };
  capturedDuring: string;
  context: { fourOctetAs: boolean; addPath: Family[]; ebgp: boolean };
  expected: Record<string, unknown>;
  observed: Record<string, unknown>;
}

const MSG_TYPES = ['', 'open', 'update', 'notification', 'keepalive', 'route-refresh'] as const;

function familyName(afi: number, safi: number): string {
  if (safi === 1 && afi === 1) return 'ipv4';
  if (safi === 1 && afi === 2) return 'ipv6';
  return `afi${afi}-safi${safi}`;
}

/** Attribute type codes the expectation implies, to cross-check the capture against the config. */
function impliedCodes(e: Record<string, unknown>): Map<number, boolean> {
  return new Map<number, boolean>([
    [4, e.med !== undefined || e.medAnyOf !== undefined],
    [5, e.localPref !== undefined],
    [6, e.atomicAggregate === true],
    [7, e.aggregator !== undefined],
    [8, e.communities !== undefined],
    [9, e.originatorId !== undefined],
    [10, e.clusterList !== undefined],
    [16, e.extendedCommunities !== undefined],
    [17, e.as4PathExpected === true],
    [18, e.as4AggregatorExpected === true],
    [32, e.largeCommunities !== undefined],
  ]);
}

function hexLines(buf: Buffer): string {
  const hex = buf.toString('hex');
  const lines: string[] = [];
  for (let i = 0; i < hex.length; i += 64) lines.push(hex.slice(i, i + 64));
  return lines.join('\n') + '\n';
}

interface Written {
  entries: IndexEntry[];
  seen: Map<string, string>;
  names: Set<string>;
}

async function writeScenario(
  sc: Scenario,
  out: Written,
  versions: Map<DaemonName, string>,
): Promise<void> {
  const byAddr = new Map<string, { end: SessionEnd; other: SessionEnd; session: SessionSpec }>();
  for (const s of sc.sessions) {
    byAddr.set(`${s.a.address}>${s.b.address}`, { end: s.a, other: s.b, session: s });
    byAddr.set(`${s.b.address}>${s.a.address}`, { end: s.b, other: s.a, session: s });
  }
  const phaseAt = (ts: number): string =>
    sc.phases.find((p) => ts >= p.start && ts <= p.end)?.name ?? 'between-phases';
  const flows = [...sc.flows].sort((x, y) => x.start - y.start);
  for (const flow of flows) {
    const hit = byAddr.get(`${flow.src}>${flow.dst}`);
    if (!hit) {
      console.warn(`[${sc.name}] flow ${flow.src} > ${flow.dst} matches no session; skipped`);
      continue;
    }
    if (flow.gap || flow.trailing > 0)
      console.warn(
        `[${sc.name}] flow ${flow.src} > ${flow.dst}: gap=${flow.gap} trailing=${flow.trailing}`,
      );
    const { end: from, other: to, session } = hit;
    const sp = from.speaker;
    const version = versions.get(sp.daemon)!;
    const addPath = session.addPath[sp.label] ?? [];
    for (const m of flow.messages) {
      const type = MSG_TYPES[m.type];
      if (!type) continue;
      const hex = m.bytes.toString('hex');
      const dedupeKey = `${sp.daemon}|${type === 'keepalive' ? '' : session.tag}|${hex}`;
      if (out.seen.has(dedupeKey)) continue;
      const expected: Record<string, unknown> = {};
      const observed: Record<string, unknown> = { length: m.bytes.length };
      let kind: string;
      if (type === 'open') {
        kind = `open-${session.tag}`;
        Object.assign(expected, {
          version: 4,
          myAs: sp.asn > 0xffff ? AS_TRANS : sp.asn,
          asn: sp.asn,
          holdTime: sp.holdTime,
          routerId: sp.routerId,
          capabilities: sp.capabilities(session, sp),
        });
        observed.capabilityCodes = sniffOpenCapabilities(m.bytes);
      } else if (type === 'keepalive') {
        kind = 'keepalive';
      } else if (type === 'notification') {
        const planned = sc.shutdown?.[sp.label];
        if (planned && planned.session === session.tag) Object.assign(expected, planned);
        else expected.note = 'not a planned shutdown: see capturedDuring';
        observed.code = m.bytes[19];
        observed.subcode = m.bytes[20];
        kind = `notification-cease-${session.tag}`;
        if (m.bytes[19] !== 6) kind = `notification-${m.bytes[19]}-${m.bytes[20]}-${session.tag}`;
      } else if (type === 'route-refresh') {
        const afi = m.bytes.readUInt16BE(19);
        const subtype = m.bytes[21];
        const safi = m.bytes[22];
        const sub = ['route-refresh', 'borr', 'eorr'][subtype] ?? `route-refresh-subtype${subtype}`;
        kind = `${sub}-${familyName(afi, safi)}-${session.tag}`;
        Object.assign(expected, {
          afi,
          safi,
          subtype,
          note:
            subtype === 0
              ? 'sent on a soft reset inbound command (see capturedDuring)'
              : 'RFC 7313 demarcation sent while answering a peer route refresh',
        });
      } else {
        const sn = sniffUpdate(m.bytes, addPath);
        observed.attributeCodes = sn.attrCodes;
        if (sn.mpReach) observed.mpReachNextHopLength = sn.mpReach.nextHopLength;
        const announced = [...sn.nlri, ...(sn.mpReach?.nlri ?? [])];
        const withdrawn = [...sn.withdrawn, ...(sn.mpUnreach?.withdrawn ?? [])];
        observed.prefixes = announced;
        observed.withdrawn = withdrawn;
        const isEorV4 = m.bytes.length === 23;
        const isEorV6 =
          sn.attrCodes.length === 1 &&
          sn.mpUnreach !== undefined &&
          sn.mpUnreach.withdrawn.length === 0 &&
          announced.length === 0;
        if (isEorV4 || isEorV6) {
          const fam = isEorV4 ? 'ipv4' : familyName(sn.mpUnreach!.afi, sn.mpUnreach!.safi);
          kind = `eor-${fam}-${session.tag}`;
          expected.endOfRib = `${fam}-unicast`;
        } else if (announced.length === 0) {
          const fam = sn.mpUnreach ? familyName(sn.mpUnreach.afi, sn.mpUnreach.safi) : 'ipv4';
          kind = `withdraw-${fam}-${session.tag}`;
          expected.withdrawn = withdrawn.map(stripPathId);
        } else {
          const routes = announced.map((p) => {
            const { prefix, pathId } = stripPathId(p);
            const spec = sp.routes.find((r) => r.prefix === prefix);
            if (!spec) return { prefix, pathId, unknownToConfig: true };
            const e = routeExpectation(spec, from, to, session);
            if (pathId !== undefined) e.pathId = pathId;
            return { ...e, tag: spec.tag };
          });
          const first = routes[0] as { tag?: string; family?: string; prefix: string };
          const fam = (first.family ?? familyOfPrefix(first.prefix)).replace('-unicast', '');
          kind = `update-${fam}-${first.tag ?? 'unknown'}-${session.tag}`;
          expected.routes = routes;
          const firstExp = routes[0] as Record<string, unknown>;
          if (!('unknownToConfig' in firstExp)) {
            for (const [code, want] of impliedCodes(firstExp)) {
              if (want !== sn.attrCodes.includes(code)) {
                const msg = `${sp.label} ${announced[0]} on ${session.tag}: attribute ${code} ${want ? 'configured but absent' : 'present but not in the expectation'}`;
                console.warn(`[${sc.name}] MISMATCH ${msg}`);
                problems.push(msg);
              }
            }
          }
          if (withdrawn.length > 0) expected.withdrawn = withdrawn.map(stripPathId);
          if (routes.some((r) => 'unknownToConfig' in r))
            console.warn(`[${sc.name}] ${sp.label}: prefix not in config: ${announced.join(' ')}`);
        }
      }
      let file = `${sp.daemon}-${version}-${kind}.hex`;
      for (let i = 2; out.names.has(file); i++) file = `${sp.daemon}-${version}-${kind}-${i}.hex`;
      out.names.add(file);
      out.seen.set(dedupeKey, file);
      await writeFile(join(FIXTURES, file), hexLines(m.bytes));
      out.entries.push({
        file,
        daemon: sp.daemon,
        version,
        type,
        kind,
        scenario: sc.name,
        session: session.tag,
        from: { daemon: sp.daemon, speaker: sp.label, address: from.address, asn: sp.asn },
        to: {
          daemon: to.speaker.daemon,
          speaker: to.speaker.label,
          address: to.address,
          asn: to.speaker.asn,
        },
        capturedDuring: phaseAt(m.ts),
        context: { fourOctetAs: session.as4, addPath, ebgp: ebgp(session) },
        expected,
        observed,
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Scenario plumbing

class Timeline {
  readonly phases: Phase[] = [];
  private cur: Phase | undefined;
  begin(name: string): void {
    this.end();
    this.cur = { name, start: Date.now() / 1000, end: Infinity };
    this.phases.push(this.cur);
  }
  end(): void {
    if (this.cur) this.cur.end = Date.now() / 1000;
    this.cur = undefined;
  }
}

/** Problems met while capturing (a session that never came up...), reported in index.json. */
const problems: string[] = [];

/** Awaits `p`; on failure logs and records the problem instead of aborting the scenario. */
async function soft(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    const msg = (err as Error).message.split('\n').slice(0, 12).join('\n');
    console.warn(`WARNING: ${msg}`);
    problems.push(msg);
  }
}

function end(speaker: Speaker, address: string, linkLocal?: string): SessionEnd {
  return { speaker, address, linkLocal };
}

async function captureOn(cleanup: Cleanup, links: Link[]): Promise<TcpdumpHandle[]> {
  const caps: TcpdumpHandle[] = [];
  for (const l of links) caps.push(await startTcpdump(cleanup, l.a.ns, l.a.dev));
  return caps;
}

async function stopAll(caps: TcpdumpHandle[]): Promise<BgpFlow[]> {
  const flows: BgpFlow[] = [];
  for (const c of caps) flows.push(...(await c.stop()));
  return flows;
}

/** FRR copies the IGP metric of a `network` route (0 here: no IGP) into MED. */
const FRR_MED0 = 'FRR sends MED 0 on a network statement route (its IGP metric; not configured)';

/** `gobgp global rib add` without `origin` sends ORIGIN incomplete. */
const GOBGP_ORIGIN = 'ORIGIN incomplete is the gobgp global rib add default (no origin given)';

const BIRD_CAPS =
  (hostname: string, grTime = 120, llgrStale = 3600) =>
  (s: SessionSpec, me: Speaker) => ({
    multiprotocol: s.families,
    routeRefresh: true,
    enhancedRouteRefresh: true,
    extendedMessage: true,
    gracefulRestart: { restartTime: grTime, families: s.families },
    longLivedGracefulRestart: { families: s.families, staleTime: llgrStale },
    fourOctetAs: me.asn,
    addPath: s.families.map((f) => ({ family: f, mode: 'receive' })),
    ...(s.extendedNextHop
      ? { extendedNextHop: [{ nlri: 'ipv4-unicast', nextHopAfi: 'ipv6' }] }
      : {}),
    fqdn: { hostname },
  });

/** Common BIRD protocol options: every capability BIRD 2.0.12 can announce. */
function birdCaps(addPaths = 'rx'): string {
  return [
    '  advertise hostname on;',
    '  enable route refresh on;',
    '  enable extended messages on;',
    '  graceful restart on;',
    '  graceful restart time 120;',
    '  long lived graceful restart on;',
    '  long lived stale time 3600;',
    '  interpret communities off;',
    `  # add paths ${addPaths} is set per channel`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Scenario 1: BIRD <-> FRR, eBGP, an IPv4 session and an IPv6 session (IPv4 NLRI over IPv6 next
// hops on the latter), every attribute each can set, refresh, withdraw, shutdown communication.

async function scenarioBirdFrr(cleanup: Cleanup): Promise<Scenario> {
  const A = 4200000001;
  const F = 4200000002;
  const nsB = await makeNode(cleanup, 'pfxb');
  const nsF = await makeNode(cleanup, 'pfxf');
  const link = await connect(cleanup, nsB, nsF, 0, 'pfx');
  const bird: Speaker = {
    label: 'bird-a',
    daemon: 'bird',
    asn: A,
    routerId: '192.0.2.1',
    holdTime: 180,
    capabilities: BIRD_CAPS('bird-a'),
    routes: [
      {
        prefix: '10.1.1.0/24',
        tag: 'communities',
        origin: 'incomplete',
        med: 50,
        communities: ['65000:100', '65000:101', 'no-export', 'no-advertise'],
      },
      {
        prefix: '10.1.2.0/24',
        tag: 'large-ext-communities',
        med: 60,
        largeCommunities: [`${A}:1:2`, `${A}:3:4`],
        extendedCommunities: [
          { kind: 'route-target', encoding: 'two-octet-as', global: 65000, local: 100 },
          { kind: 'route-origin', encoding: 'two-octet-as', global: 65000, local: 200 },
          { kind: 'route-target', encoding: 'four-octet-as', global: A, local: 5 },
          { kind: 'route-target', encoding: 'ipv4', global: '192.0.2.1', local: 7 },
        ],
      },
      {
        prefix: '10.1.3.0/24',
        tag: 'wellknown-communities',
        communities: ['no-peer', 'blackhole', 'graceful-shutdown', 'no-export-subconfed'],
      },
      { prefix: '10.1.4.0/24', tag: 'plain' },
      {
        prefix: '2001:db8:100::/48',
        tag: 'communities',
        med: 55,
        communities: ['65000:110', 'no-export'],
        largeCommunities: [`${A}:6:7`],
        extendedCommunities: [
          { kind: 'route-target', encoding: 'two-octet-as', global: 65000, local: 111 },
        ],
      },
      { prefix: '2001:db8:101::/48', tag: 'plain' },
      { prefix: '2001:db8:102::/48', tag: 'to-withdraw' },
    ],
  };
  const rm = {
    origin: 'egp' as const,
    med: 70,
    communities: ['65000:200', '65000:201'],
    largeCommunities: [`${F}:3:4`],
    extendedCommunities: [
      {
        kind: 'route-target' as const,
        encoding: 'two-octet-as' as const,
        global: 65000,
        local: 300,
      },
      { kind: 'route-target' as const, encoding: 'four-octet-as' as const, global: F, local: 301 },
      {
        kind: 'route-origin' as const,
        encoding: 'two-octet-as' as const,
        global: 65000,
        local: 302,
      },
    ],
  };
  const frr: Speaker = {
    label: 'frr-a',
    daemon: 'frr',
    asn: F,
    routerId: '192.0.2.2',
    holdTime: 90,
    capabilities: (s) => ({
      multiprotocol: s.families,
      routeRefresh: true,
      enhancedRouteRefresh: true,
      gracefulRestart: { restartTime: 120, families: s.families },
      longLivedGracefulRestart: { families: s.families, staleTime: 3600 },
      fourOctetAs: F,
      addPath: s.families.map((f) => ({ family: f, mode: 'receive', note: 'FRR default' })),
      ...(s.extendedNextHop
        ? { extendedNextHop: [{ nlri: 'ipv4-unicast', nextHopAfi: 'ipv6' }] }
        : {}),
      fqdn: { hostname: 'frr-a', domain: 'example.net' },
    }),
    routes: [
      { prefix: '10.2.1.0/24', tag: 'attributes', ...rm },
      { prefix: '10.2.9.0/24', tag: 'to-withdraw', med: 0, note: FRR_MED0 },
      {
        prefix: '10.20.0.0/16',
        tag: 'aggregate-atomic',
        med: 0,
        atomicAggregate: true,
        aggregator: { asn: F, address: '192.0.2.2' },
        note: 'aggregate-address 10.20.0.0/16 summary-only over local 10.20.1.0/24 and 10.20.2.0/24',
      },
      {
        prefix: '10.1.4.0/23',
        tag: 'aggregate-as-set',
        med: 0,
        fullPath: [
          { type: 'sequence', asns: [F] },
          { type: 'set', asns: [A] },
        ],
        aggregator: { asn: F, address: '192.0.2.2' },
        note: 'aggregate-address 10.1.4.0/23 as-set summary-only over BIRD 10.1.4.0/24 (AS path 4200000001) and local 10.1.5.0/24; BIRD drops it (own AS in the set) but it is on the wire',
      },
      { prefix: '2001:db8:200::/48', tag: 'attributes', ...rm },
      { prefix: '2001:db8:201::/48', tag: 'to-withdraw', med: 0, note: FRR_MED0 },
    ],
  };
  const v4: SessionSpec = {
    tag: 'ebgp4',
    a: end(bird, link.a.v4),
    b: end(frr, link.b.v4),
    families: ['ipv4-unicast'],
    as4: true,
    addPath: {},
  };
  const v6: SessionSpec = {
    tag: 'ebgp6',
    a: end(bird, link.a.v6, link.a.linkLocal),
    b: end(frr, link.b.v6, link.b.linkLocal),
    families: ['ipv4-unicast', 'ipv6-unicast'],
    as4: true,
    addPath: {},
    extendedNextHop: true,
  };
  const c = (x: string) => `bgp_community.add(${x});`;
  const birdConf = `# BIRD 2 side of scenario bird-frr (fixtures/README.md)
router id ${bird.routerId};
hostname "bird-a";
protocol device {}
protocol static s4 {
  ipv4;
  route 10.1.1.0/24 blackhole { bgp_origin = ORIGIN_INCOMPLETE; ${c('(65000,100)')} ${c('(65000,101)')} ${c('(65535,65281)')} ${c('(65535,65282)')} };
  route 10.1.2.0/24 blackhole { bgp_large_community.add((${A},1,2)); bgp_large_community.add((${A},3,4)); bgp_ext_community.add((rt,65000,100)); bgp_ext_community.add((ro,65000,200)); bgp_ext_community.add((rt,${A},5)); bgp_ext_community.add((rt,192.0.2.1,7)); };
  route 10.1.3.0/24 blackhole { ${c('(65535,65284)')} ${c('(65535,666)')} ${c('(65535,0)')} ${c('(65535,65283)')} };
  route 10.1.4.0/24 blackhole;
}
protocol static s6 {
  ipv6;
  route 2001:db8:100::/48 blackhole { ${c('(65000,110)')} ${c('(65535,65281)')} bgp_large_community.add((${A},6,7)); bgp_ext_community.add((rt,65000,111)); };
  route 2001:db8:101::/48 blackhole;
}
protocol static s6w {
  ipv6;
  route 2001:db8:102::/48 blackhole;
}
# BIRD sends MED to an eBGP peer only when the export filter sets it.
filter export4 {
  if source != RTS_STATIC then reject;
  if net = 10.1.1.0/24 then bgp_med = 50;
  if net = 10.1.2.0/24 then bgp_med = 60;
  accept;
}
filter export6 {
  if source != RTS_STATIC then reject;
  if net = 2001:db8:100::/48 then bgp_med = 55;
  accept;
}
protocol bgp frr4 {
  local ${link.a.v4} as ${A};
  neighbor ${link.b.v4} as ${F};
  hold time 180;
${birdCaps()}
  ipv4 { import all; export filter export4; add paths rx; };
}
protocol bgp frr6 {
  local ${link.a.v6} as ${A};
  neighbor ${link.b.v6} as ${F};
  hold time 180;
${birdCaps()}
  ipv4 { import all; export filter export4; extended next hop on; add paths rx; };
  ipv6 { import all; export filter export6; add paths rx; };
}
`;
  const frrConf = `! FRR side of scenario bird-frr (fixtures/README.md)
frr defaults traditional
hostname frr-a
domainname example.net
ip prefix-list OWN4 seq 5 permit 10.2.0.0/16 le 24
ip prefix-list OWN4 seq 10 permit 10.20.0.0/16 le 24
ip prefix-list OWN4 seq 15 permit 10.1.4.0/23
ipv6 prefix-list OWN6 seq 5 permit 2001:db8:200::/40 le 48
route-map RM-ATTRS permit 10
 set origin egp
 set metric 70
 set community 65000:200 65000:201
 set large-community ${F}:3:4
 set extcommunity rt 65000:300 ${F}:301
 set extcommunity soo 65000:302
exit
router bgp ${F}
 bgp router-id ${frr.routerId}
 no bgp ebgp-requires-policy
 no bgp network import-check
 bgp graceful-restart
 bgp graceful-restart restart-time 120
 bgp long-lived-graceful-restart stale-time 3600
 timers bgp 30 90
 neighbor ${link.a.v4} remote-as ${A}
 neighbor ${link.a.v4} advertisement-interval 0
 neighbor ${link.a.v6} remote-as ${A}
 neighbor ${link.a.v6} advertisement-interval 0
 neighbor ${link.a.v6} capability extended-nexthop
 address-family ipv4 unicast
  network 10.2.1.0/24 route-map RM-ATTRS
  network 10.2.9.0/24
  network 10.20.1.0/24
  network 10.20.2.0/24
  network 10.1.5.0/24
  aggregate-address 10.20.0.0/16 summary-only
  aggregate-address 10.1.4.0/23 as-set summary-only
  neighbor ${link.a.v4} activate
  neighbor ${link.a.v4} prefix-list OWN4 out
  neighbor ${link.a.v6} activate
  neighbor ${link.a.v6} prefix-list OWN4 out
 exit-address-family
 address-family ipv6 unicast
  network 2001:db8:200::/48 route-map RM-ATTRS
  network 2001:db8:201::/48
  neighbor ${link.a.v6} activate
  neighbor ${link.a.v6} prefix-list OWN6 out
 exit-address-family
exit
`;
  const tl = new Timeline();
  const caps = await captureOn(cleanup, [link]);
  tl.begin('establish');
  const b = await startBird(cleanup, { ns: nsB, config: birdConf });
  const f = await startFrr(cleanup, { ns: nsF, config: frrConf });
  await soft(b.waitEstablished('frr4', 30_000));
  await soft(b.waitEstablished('frr6', 30_000));
  await soft(f.waitEstablished(link.a.v4, 30_000));
  await soft(f.waitEstablished(link.a.v6, 30_000));
  await sleep(5000);
  tl.begin('refresh-requested-by-bird');
  await b.cli('reload in frr4');
  await b.cli('reload in frr6');
  await sleep(3000);
  tl.begin('refresh-requested-by-frr');
  await f.cli(`clear bgp ${link.a.v4} soft in`);
  await f.cli(`clear bgp ${link.a.v6} soft in`);
  await sleep(3000);
  tl.begin('withdraw');
  await b.cli('disable s6w');
  await f.configure(
    ['address-family ipv4 unicast', 'no network 10.2.9.0/24', 'exit-address-family'],
    F,
  );
  await f.configure(
    ['address-family ipv6 unicast', 'no network 2001:db8:201::/48', 'exit-address-family'],
    F,
  );
  await sleep(3000);
  tl.begin('shutdown');
  await b.cli('disable frr4 "maintenance by bird-a"');
  await f.configure([`neighbor ${link.a.v6} shutdown message maintenance by frr-a`], F);
  await sleep(3000);
  tl.end();
  const flows = await stopAll(caps);
  const sc: Scenario = {
    name: 'bird-frr',
    description:
      'BIRD 2 (AS 4200000001) and FRR (AS 4200000002), eBGP, one IPv4 session and one IPv6 session on the same link',
    speakers: [bird, frr],
    sessions: [v4, v6],
    phases: tl.phases,
    flows,
    configs: { 'bird-frr.bird.conf': birdConf, 'bird-frr.frr.conf': frrConf },
    shutdown: {
      'bird-a': {
        code: 6,
        subcode: 2,
        name: 'cease/administrative-shutdown',
        message: 'maintenance by bird-a',
        session: 'ebgp4',
      },
      'frr-a': {
        code: 6,
        subcode: 2,
        name: 'cease/administrative-shutdown',
        message: 'maintenance by frr-a',
        session: 'ebgp6',
      },
    },
  };
  return sc;
}

// ---------------------------------------------------------------------------------------------
// Scenario 2: 2-octet AS session (RFC 6793): BIRD with `enable as4 off` (AS 65001) and FRR with a
// 4-octet ASN, so both send AS4_PATH, and FRR sends AS4_AGGREGATOR and an AS_SET.

async function scenarioAs2(cleanup: Cleanup): Promise<Scenario> {
  const B = 65001;
  const F = 4200000002;
  const nsB = await makeNode(cleanup, 'pfyb');
  const nsF = await makeNode(cleanup, 'pfyf');
  const link = await connect(cleanup, nsB, nsF, 1, 'pfy');
  const bird: Speaker = {
    label: 'bird-as2',
    daemon: 'bird',
    asn: B,
    routerId: '192.0.2.21',
    holdTime: 180,
    capabilities: (s, me) => ({
      ...BIRD_CAPS('bird-as2')(s, me),
      fourOctetAs: false,
      note: 'enable as4 off: no 4-octet AS capability',
    }),
    routes: [
      {
        prefix: '10.3.0.0/24',
        tag: 'as4-path',
        path: [{ type: 'sequence', asns: [4200000099] }],
        communities: ['65001:300'],
        note: 'export filter prepends 4200000099 before BIRD adds its own AS',
      },
    ],
  };
  const frr: Speaker = {
    label: 'frr-as2',
    daemon: 'frr',
    asn: F,
    routerId: '192.0.2.22',
    holdTime: 90,
    capabilities: () => ({
      none: true,
      note: 'neighbor dont-capability-negotiate: the OPEN has no optional parameters, so the session is 2-octet (RFC 6793) and IPv4 unicast only',
    }),
    routes: [
      {
        prefix: '10.4.1.0/24',
        tag: 'as4-path',
        med: 0,
        path: [{ type: 'sequence', asns: [4200000098, 4200000098] }],
        note: 'route-map: set as-path prepend 4200000098 4200000098; ' + FRR_MED0,
      },
      {
        prefix: '10.4.2.0/23',
        tag: 'as4-aggregator',
        med: 0,
        atomicAggregate: true,
        aggregator: { asn: F, address: '192.0.2.22' },
        note: 'aggregate-address 10.4.2.0/23 summary-only',
      },
      {
        prefix: '10.3.0.0/23',
        tag: 'as4-path-set',
        med: 0,
        communities: ['65001:300'],
        fullPath: [
          { type: 'sequence', asns: [F] },
          { type: 'set', asns: [B, 4200000099] },
        ],
        aggregator: { asn: F, address: '192.0.2.22' },
        note: 'aggregate-address 10.3.0.0/23 as-set summary-only over BIRD 10.3.0.0/24 (path 65001 4200000099) and local 10.3.1.0/24; as-set also merges the component communities (BIRD 65001:300); set order as FRR emits it is not configured',
      },
    ],
  };
  const s: SessionSpec = {
    tag: 'as2',
    a: end(bird, link.a.v4),
    b: end(frr, link.b.v4),
    families: ['ipv4-unicast'],
    as4: false,
    addPath: {},
  };
  const birdConf = `# BIRD side of scenario as2 (fixtures/README.md)
router id ${bird.routerId};
hostname "bird-as2";
protocol device {}
protocol static s4 {
  ipv4;
  route 10.3.0.0/24 blackhole { bgp_community.add((65001,300)); };
}
protocol bgp frr {
  local ${link.a.v4} as ${B};
  # A 2-octet speaker sees a 4-octet AS as AS_TRANS (RFC 6793 §4.1).
  neighbor ${link.b.v4} as ${AS_TRANS};
  hold time 180;
  enable as4 off;
${birdCaps()}
  ipv4 { import all; export filter { bgp_path.prepend(4200000099); accept; }; add paths rx; };
}
`;
  const frrConf = `! FRR side of scenario as2 (fixtures/README.md)
frr defaults traditional
hostname frr-as2
route-map RM-PREPEND permit 10
 set as-path prepend 4200000098 4200000098
exit
router bgp ${F}
 bgp router-id ${frr.routerId}
 no bgp ebgp-requires-policy
 no bgp network import-check
 timers bgp 30 90
 neighbor ${link.a.v4} remote-as ${B}
 neighbor ${link.a.v4} dont-capability-negotiate
 neighbor ${link.a.v4} advertisement-interval 0
 address-family ipv4 unicast
  network 10.4.1.0/24 route-map RM-PREPEND
  network 10.4.2.0/24
  network 10.4.3.0/24
  network 10.3.1.0/24
  aggregate-address 10.4.2.0/23 summary-only
  aggregate-address 10.3.0.0/23 as-set summary-only
  neighbor ${link.a.v4} activate
 exit-address-family
exit
`;
  const tl = new Timeline();
  const caps = await captureOn(cleanup, [link]);
  tl.begin('establish');
  const b = await startBird(cleanup, { ns: nsB, config: birdConf });
  const f = await startFrr(cleanup, { ns: nsF, config: frrConf });
  await soft(b.waitEstablished('frr', 30_000));
  await soft(f.waitEstablished(link.a.v4, 30_000));
  await sleep(5000);
  tl.end();
  const flows = await stopAll(caps);
  return {
    name: 'as2',
    description:
      'BIRD with enable as4 off (AS 65001) and FRR (AS 4200000002): a 2-octet AS session',
    speakers: [bird, frr],
    sessions: [s],
    phases: tl.phases,
    flows,
    configs: { 'as2.bird.conf': birdConf, 'as2.frr.conf': frrConf },
  };
}

// ---------------------------------------------------------------------------------------------
// Scenario 3: ADD-PATH (RFC 7911) both ways between BIRD and FRR, IPv4 and IPv6 sessions.

async function scenarioAddPath(cleanup: Cleanup): Promise<Scenario> {
  const A = 4200000001;
  const F = 4200000002;
  const nsB = await makeNode(cleanup, 'pfzb');
  const nsF = await makeNode(cleanup, 'pfzf');
  const link = await connect(cleanup, nsB, nsF, 2, 'pfz');
  const bird: Speaker = {
    label: 'bird-addpath',
    daemon: 'bird',
    asn: A,
    routerId: '192.0.2.31',
    holdTime: 180,
    capabilities: (s, me) => ({
      ...BIRD_CAPS('bird-addpath')(s, me),
      addPath: s.families.map((f) => ({ family: f, mode: 'send-receive' })),
    }),
    routes: [
      {
        prefix: '10.5.1.0/24',
        tag: 'addpath',
        medAnyOf: [10, 20],
        note: 'two paths: static sa (MED 10) and static sb (MED 20), distinct path ids',
      },
      {
        prefix: '2001:db8:500::/48',
        tag: 'addpath',
        medAnyOf: [10, 20],
        note: 'two paths: static sa6 (MED 10) and sb6 (MED 20), distinct path ids',
      },
    ],
  };
  const frr: Speaker = {
    label: 'frr-addpath',
    daemon: 'frr',
    asn: F,
    routerId: '192.0.2.32',
    holdTime: 90,
    capabilities: (s) => ({
      multiprotocol: s.families,
      routeRefresh: true,
      fourOctetAs: F,
      addPath: s.families.map((f) => ({ family: f, mode: 'send-receive' })),
    }),
    routes: [
      { prefix: '10.6.1.0/24', tag: 'addpath', med: 0, note: FRR_MED0 },
      { prefix: '2001:db8:600::/48', tag: 'addpath', med: 0, note: FRR_MED0 },
      {
        prefix: '10.5.1.0/24',
        tag: 'addpath-readvertised',
        fullPath: [{ type: 'sequence', asns: [F, A] }],
        note: 'both BIRD paths sent back to BIRD by addpath-tx-all-paths, each with its own path id (BIRD drops them: own AS)',
      },
      {
        prefix: '2001:db8:500::/48',
        tag: 'addpath-readvertised',
        fullPath: [{ type: 'sequence', asns: [F, A] }],
        note: 'both BIRD paths sent back to BIRD by addpath-tx-all-paths, each with its own path id (BIRD drops them: own AS)',
      },
    ],
  };
  const v4: SessionSpec = {
    tag: 'addpath4',
    a: end(bird, link.a.v4),
    b: end(frr, link.b.v4),
    families: ['ipv4-unicast'],
    as4: true,
    addPath: { 'bird-addpath': ['ipv4-unicast'], 'frr-addpath': ['ipv4-unicast'] },
  };
  const v6: SessionSpec = {
    tag: 'addpath6',
    a: end(bird, link.a.v6, link.a.linkLocal),
    b: end(frr, link.b.v6, link.b.linkLocal),
    families: ['ipv6-unicast'],
    as4: true,
    addPath: { 'bird-addpath': ['ipv6-unicast'], 'frr-addpath': ['ipv6-unicast'] },
  };
  // MED differs per path (note) — the expectation above is the first path's; see `note`.
  const birdConf = `# BIRD side of scenario addpath (fixtures/README.md)
router id ${bird.routerId};
hostname "bird-addpath";
protocol device {}
protocol static sa { ipv4; route 10.5.1.0/24 blackhole; }
protocol static sb { ipv4; route 10.5.1.0/24 blackhole; }
protocol static sa6 { ipv6; route 2001:db8:500::/48 blackhole; }
protocol static sb6 { ipv6; route 2001:db8:500::/48 blackhole; }
# MED marks the path: 10 from sa/sa6, 20 from sb/sb6 (set in the export filter, as BIRD requires for eBGP).
filter mark_paths {
  if source != RTS_STATIC then reject;
  if proto = "sb" || proto = "sb6" then bgp_med = 20; else bgp_med = 10;
  accept;
}
protocol bgp frr4 {
  local ${link.a.v4} as ${A};
  neighbor ${link.b.v4} as ${F};
  hold time 180;
${birdCaps('on')}
  ipv4 { import all; export filter mark_paths; add paths on; };
}
protocol bgp frr6 {
  local ${link.a.v6} as ${A};
  neighbor ${link.b.v6} as ${F};
  hold time 180;
${birdCaps('on')}
  ipv6 { import all; export filter mark_paths; add paths on; };
}
`;
  const frrConf = `! FRR side of scenario addpath (fixtures/README.md)
frr defaults traditional
hostname frr-addpath
router bgp ${F}
 bgp router-id ${frr.routerId}
 no bgp ebgp-requires-policy
 no bgp network import-check
 timers bgp 30 90
 neighbor ${link.a.v4} remote-as ${A}
 neighbor ${link.a.v4} advertisement-interval 0
 neighbor ${link.a.v6} remote-as ${A}
 neighbor ${link.a.v6} advertisement-interval 0
 address-family ipv4 unicast
  network 10.6.1.0/24
  neighbor ${link.a.v4} activate
  neighbor ${link.a.v4} addpath-tx-all-paths
  no neighbor ${link.a.v6} activate
 exit-address-family
 address-family ipv6 unicast
  network 2001:db8:600::/48
  neighbor ${link.a.v6} activate
  neighbor ${link.a.v6} addpath-tx-all-paths
 exit-address-family
exit
`;
  const tl = new Timeline();
  const caps = await captureOn(cleanup, [link]);
  tl.begin('establish');
  const b = await startBird(cleanup, { ns: nsB, config: birdConf });
  const f = await startFrr(cleanup, { ns: nsF, config: frrConf });
  await soft(b.waitEstablished('frr4', 30_000));
  await soft(b.waitEstablished('frr6', 30_000));
  await soft(f.waitEstablished(link.a.v4, 30_000));
  await sleep(5000);
  tl.begin('withdraw');
  await b.cli('disable sb');
  await b.cli('disable sb6');
  await sleep(3000);
  tl.end();
  const flows = await stopAll(caps);
  return {
    name: 'addpath',
    description: 'BIRD and FRR with ADD-PATH send/receive on an IPv4 and an IPv6 session',
    speakers: [bird, frr],
    sessions: [v4, v6],
    phases: tl.phases,
    flows,
    configs: { 'addpath.bird.conf': birdConf, 'addpath.frr.conf': frrConf },
  };
}

// ---------------------------------------------------------------------------------------------
// Scenario 4: route reflection. BIRD reflects between an FRR client and a GoBGP client (iBGP,
// AS 4200000010): LOCAL_PREF, ORIGINATOR_ID, CLUSTER_LIST.

async function scenarioRr(cleanup: Cleanup, haveGobgp: boolean): Promise<Scenario> {
  const AS = 4200000010;
  const nsR = await makeNode(cleanup, 'pfrr');
  const nsC1 = await makeNode(cleanup, 'pfrf');
  const nsC2 = await makeNode(cleanup, 'pfrg');
  const l1 = await connect(cleanup, nsR, nsC1, 3, 'pfr1');
  const l2 = await connect(cleanup, nsR, nsC2, 4, 'pfr2');
  const cluster = '192.0.2.100';
  const frrRoute: RouteSpec = {
    prefix: '10.7.1.0/24',
    tag: 'ibgp-localpref',
    localPref: 250,
    med: 77,
    communities: ['65000:701', 'no-export'],
  };
  const gobgpRoute: RouteSpec = {
    prefix: '10.7.2.0/24',
    tag: 'ibgp-localpref',
    origin: 'incomplete',
    localPref: 300,
    med: 88,
    communities: ['65000:702', 'no-export'],
    largeCommunities: [`${AS}:7:2`],
  };
  const rr: Speaker = {
    label: 'bird-rr',
    daemon: 'bird',
    asn: AS,
    routerId: '192.0.2.40',
    holdTime: 180,
    capabilities: BIRD_CAPS('bird-rr'),
    routes: [
      { prefix: '10.7.3.0/24', tag: 'ibgp-localpref', localPref: 150, communities: ['65000:703'] },
      {
        ...frrRoute,
        tag: 'reflected',
        originatorId: '192.0.2.41',
        clusterList: [cluster],
        nextHop: l1.b.v4,
        note: 'FRR client route reflected to the GoBGP client',
      },
      {
        ...gobgpRoute,
        tag: 'reflected',
        originatorId: '192.0.2.42',
        clusterList: [cluster],
        nextHop: l2.b.v4,
        note: 'GoBGP client route reflected to the FRR client',
      },
    ],
  };
  const frr: Speaker = {
    label: 'frr-rr-client',
    daemon: 'frr',
    asn: AS,
    routerId: '192.0.2.41',
    holdTime: 90,
    capabilities: (s) => ({
      multiprotocol: s.families,
      routeRefresh: true,
      fourOctetAs: AS,
      fqdn: { hostname: 'frr-rr-client' },
    }),
    routes: [frrRoute],
  };
  const gobgp: Speaker = {
    label: 'gobgp-rr-client',
    daemon: 'gobgp',
    asn: AS,
    routerId: '192.0.2.42',
    holdTime: 120,
    capabilities: (s) => ({
      multiprotocol: s.families,
      routeRefresh: true,
      fourOctetAs: AS,
      gracefulRestart: { restartTime: 120, families: s.families },
    }),
    routes: [gobgpRoute],
  };
  const s1: SessionSpec = {
    tag: 'rr-frr',
    a: end(rr, l1.a.v4),
    b: end(frr, l1.b.v4),
    families: ['ipv4-unicast'],
    as4: true,
    addPath: {},
    rr: { 'bird-rr': { clusterId: cluster } },
  };
  const s2: SessionSpec = {
    tag: 'rr-gobgp',
    a: end(rr, l2.a.v4),
    b: end(gobgp, l2.b.v4),
    families: ['ipv4-unicast'],
    as4: true,
    addPath: {},
    rr: { 'bird-rr': { clusterId: cluster } },
  };
  const birdConf = `# BIRD route reflector of scenario rr (fixtures/README.md)
router id ${rr.routerId};
hostname "bird-rr";
protocol device {}
protocol static s4 { ipv4; route 10.7.3.0/24 blackhole { bgp_local_pref = 150; bgp_community.add((65000,703)); }; }
template bgp rrclient {
  local as ${AS};
  hold time 180;
  rr client;
  rr cluster id ${cluster};
${birdCaps()}
  ipv4 { import all; export all; next hop self off; add paths rx; };
}
protocol bgp frr from rrclient { neighbor ${l1.b.v4} as ${AS}; source address ${l1.a.v4}; }
protocol bgp gobgp from rrclient { neighbor ${l2.b.v4} as ${AS}; source address ${l2.a.v4}; }
`;
  const frrConf = `! FRR route-reflector client of scenario rr (fixtures/README.md)
frr defaults traditional
hostname frr-rr-client
route-map RM-IBGP permit 10
 set local-preference 250
 set metric 77
 set community 65000:701 no-export
exit
router bgp ${AS}
 bgp router-id ${frr.routerId}
 no bgp network import-check
 timers bgp 30 90
 neighbor ${l1.a.v4} remote-as ${AS}
 neighbor ${l1.a.v4} advertisement-interval 0
 address-family ipv4 unicast
  network 10.7.1.0/24 route-map RM-IBGP
  neighbor ${l1.a.v4} activate
 exit-address-family
exit
`;
  const gobgpConf = `# GoBGP route-reflector client of scenario rr (fixtures/README.md)
[global.config]
  as = ${AS}
  router-id = "${gobgp.routerId}"
  port = 179
[[neighbors]]
  [neighbors.config]
    neighbor-address = "${l2.a.v4}"
    peer-as = ${AS}
  [neighbors.timers.config]
    hold-time = 120
    keepalive-interval = 40
    connect-retry = 2
  [neighbors.graceful-restart.config]
    enabled = true
    restart-time = 120
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true
`;
  const gobgpCmd = `gobgp global rib add -a ipv4 10.7.2.0/24 origin incomplete local-pref 300 med 88 community 65000:702,no-export large-community ${AS}:7:2`;
  const tl = new Timeline();
  const caps = await captureOn(cleanup, haveGobgp ? [l1, l2] : [l1]);
  tl.begin('establish');
  const b = await startBird(cleanup, { ns: nsR, config: birdConf });
  const f = await startFrr(cleanup, { ns: nsC1, config: frrConf });
  const g = haveGobgp ? await startGobgp(cleanup, { ns: nsC2, config: gobgpConf }) : undefined;
  await soft(b.waitEstablished('frr', 30_000));
  await soft(f.waitEstablished(l1.a.v4, 30_000));
  if (g) {
    await soft(b.waitEstablished('gobgp', 30_000));
    await g.cli(gobgpCmd.split(' ').slice(1));
  }
  await sleep(5000);
  if (g) {
    tl.begin('withdraw');
    await g.cli(['global', 'rib', 'del', '-a', 'ipv4', '10.7.2.0/24']);
    await sleep(3000);
  }
  tl.end();
  const flows = await stopAll(caps);
  return {
    name: 'rr',
    description:
      'BIRD route reflector (cluster 192.0.2.100) with an FRR client and a GoBGP client, iBGP AS 4200000010',
    speakers: haveGobgp ? [rr, frr, gobgp] : [rr, frr],
    sessions: haveGobgp ? [s1, s2] : [s1],
    phases: tl.phases,
    flows,
    configs: {
      'rr.bird.conf': birdConf,
      'rr.frr.conf': frrConf,
      ...(haveGobgp
        ? { 'rr.gobgpd.toml': gobgpConf, 'rr.gobgp-commands.sh': `${gobgpCmd}\n` }
        : {}),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Scenario 5: GoBGP <-> BIRD, eBGP, IPv4 and IPv6 sessions, routes added over the gRPC API.

async function scenarioGobgp(cleanup: Cleanup): Promise<Scenario> {
  const G = 4200000003;
  const A = 4200000001;
  const nsG = await makeNode(cleanup, 'pfgg');
  const nsB = await makeNode(cleanup, 'pfgb');
  const link = await connect(cleanup, nsG, nsB, 5, 'pfg');
  const gobgp: Speaker = {
    label: 'gobgp-a',
    daemon: 'gobgp',
    asn: G,
    routerId: '192.0.2.51',
    holdTime: 120,
    capabilities: (s) => ({
      multiprotocol: s.families,
      routeRefresh: true,
      fourOctetAs: G,
      gracefulRestart: { restartTime: 120, families: s.families },
      longLivedGracefulRestart: { families: s.families, staleTime: 3600 },
      addPath: s.families.map((f) => ({ family: f, mode: 'receive' })),
    }),
    routes: [
      {
        prefix: '10.8.1.0/24',
        tag: 'communities',
        origin: 'egp',
        med: 80,
        communities: ['65000:800', '65000:801', 'no-export'],
        largeCommunities: [`${G}:8:1`, `${G}:8:2`],
      },
      {
        prefix: '10.8.2.0/24',
        tag: 'as-set',
        origin: 'incomplete',
        path: [
          { type: 'sequence', asns: [64600] },
          { type: 'set', asns: [64601, 4200000097] },
        ],
        note: 'gobgp global rib add ... aspath "64600 {64601,4200000097}"; ' + GOBGP_ORIGIN,
      },
      { prefix: '10.8.9.0/24', tag: 'to-withdraw', origin: 'incomplete', note: GOBGP_ORIGIN },
      {
        prefix: '2001:db8:800::/48',
        tag: 'communities',
        origin: 'incomplete',
        med: 81,
        communities: ['65000:810'],
        largeCommunities: [`${G}:8:10`],
      },
      { prefix: '2001:db8:809::/48', tag: 'to-withdraw', origin: 'incomplete', note: GOBGP_ORIGIN },
    ],
  };
  const bird: Speaker = {
    label: 'bird-g',
    daemon: 'bird',
    asn: A,
    routerId: '192.0.2.52',
    holdTime: 180,
    capabilities: BIRD_CAPS('bird-g'),
    routes: [
      { prefix: '10.1.8.0/24', tag: 'to-gobgp', communities: ['65000:818'] },
      { prefix: '2001:db8:108::/48', tag: 'to-gobgp', communities: ['65000:818'] },
    ],
  };
  const v4: SessionSpec = {
    tag: 'gobgp-bird4',
    a: end(gobgp, link.a.v4),
    b: end(bird, link.b.v4),
    families: ['ipv4-unicast'],
    as4: true,
    addPath: {},
  };
  const v6: SessionSpec = {
    tag: 'gobgp-bird6',
    a: end(gobgp, link.a.v6, link.a.linkLocal),
    b: end(bird, link.b.v6, link.b.linkLocal),
    families: ['ipv6-unicast'],
    as4: true,
    addPath: {},
  };
  const nb = (addr: string, fam: string) => `[[neighbors]]
  [neighbors.config]
    neighbor-address = "${addr}"
    peer-as = ${A}
  [neighbors.timers.config]
    hold-time = 120
    keepalive-interval = 40
    connect-retry = 2
  [neighbors.graceful-restart.config]
    enabled = true
    restart-time = 120
    long-lived-enabled = true
  [neighbors.add-paths.config]
    receive = true
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "${fam}"
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true
    [neighbors.afi-safis.long-lived-graceful-restart.config]
      enabled = true
      restart-time = 3600
`;
  const gobgpConf = `# GoBGP side of scenario gobgp-bird (fixtures/README.md)
[global.config]
  as = ${G}
  router-id = "${gobgp.routerId}"
  port = 179
${nb(link.b.v4, 'ipv4-unicast')}${nb(link.b.v6, 'ipv6-unicast')}`;
  const birdConf = `# BIRD side of scenario gobgp-bird (fixtures/README.md)
router id ${bird.routerId};
hostname "bird-g";
protocol device {}
protocol static s4 { ipv4; route 10.1.8.0/24 blackhole { bgp_community.add((65000,818)); }; }
protocol static s6 { ipv6; route 2001:db8:108::/48 blackhole { bgp_community.add((65000,818)); }; }
protocol bgp gobgp4 {
  local ${link.b.v4} as ${A};
  neighbor ${link.a.v4} as ${G};
  hold time 180;
${birdCaps()}
  ipv4 { import all; export all; add paths rx; };
}
protocol bgp gobgp6 {
  local ${link.b.v6} as ${A};
  neighbor ${link.a.v6} as ${G};
  hold time 180;
${birdCaps()}
  ipv6 { import all; export all; add paths rx; };
}
`;
  const cmds: string[][] = [
    `global rib add -a ipv4 10.8.1.0/24 origin egp med 80 community 65000:800,65000:801,no-export large-community ${G}:8:1,${G}:8:2`.split(
      ' ',
    ),
    ['global', 'rib', 'add', '-a', 'ipv4', '10.8.2.0/24', 'aspath', '64600 {64601,4200000097}'],
    'global rib add -a ipv4 10.8.9.0/24'.split(' '),
    `global rib add -a ipv6 2001:db8:800::/48 med 81 community 65000:810 large-community ${G}:8:10`.split(
      ' ',
    ),
    'global rib add -a ipv6 2001:db8:809::/48'.split(' '),
  ];
  const tl = new Timeline();
  const caps = await captureOn(cleanup, [link]);
  tl.begin('establish');
  const g = await startGobgp(cleanup, { ns: nsG, config: gobgpConf });
  const b = await startBird(cleanup, { ns: nsB, config: birdConf });
  for (const c of cmds) await g.cli(c);
  await soft(b.waitEstablished('gobgp4', 30_000));
  await soft(b.waitEstablished('gobgp6', 30_000));
  await sleep(5000);
  tl.begin('withdraw');
  await g.cli(['global', 'rib', 'del', '-a', 'ipv4', '10.8.9.0/24']);
  await g.cli(['global', 'rib', 'del', '-a', 'ipv6', '2001:db8:809::/48']);
  await sleep(3000);
  tl.begin('shutdown');
  await g.cli(['neighbor', link.b.v4, 'shutdown', '--reason', 'maintenance by gobgp-a']);
  await sleep(3000);
  tl.end();
  const flows = await stopAll(caps);
  return {
    name: 'gobgp-bird',
    description: 'GoBGP (AS 4200000003) and BIRD (AS 4200000001), eBGP, IPv4 and IPv6 sessions',
    speakers: [gobgp, bird],
    sessions: [v4, v6],
    phases: tl.phases,
    flows,
    configs: {
      'gobgp-bird.gobgpd.toml': gobgpConf,
      'gobgp-bird.gobgp-commands.sh':
        cmds
          .map((c) => `gobgp ${c.map((w) => (w.includes(' ') ? `'${w}'` : w)).join(' ')}`)
          .join('\n') + '\n',
      'gobgp-bird.bird.conf': birdConf,
    },
    shutdown: {
      'gobgp-a': { code: 6, subcode: 2, message: 'maintenance by gobgp-a', session: 'gobgp-bird4' },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Scenario 6: OpenBGPD <-> FRR, eBGP, IPv4 and IPv6 sessions.

async function scenarioOpenbgpd(cleanup: Cleanup): Promise<Scenario> {
  const O = 4200000004;
  const F = 4200000002;
  const nsO = await makeNode(cleanup, 'pfoo');
  const nsF = await makeNode(cleanup, 'pfof');
  const link = await connect(cleanup, nsO, nsF, 6, 'pfo');
  const obgpd: Speaker = {
    label: 'openbgpd-a',
    daemon: 'openbgpd',
    asn: O,
    routerId: '192.0.2.61',
    holdTime: 150,
    capabilities: (s) => ({
      multiprotocol: s.families,
      routeRefresh: true,
      enhancedRouteRefresh: true,
      gracefulRestart: { families: s.families, note: 'announce restart yes' },
      fourOctetAs: O,
      addPath: s.families.map((f) => ({ family: f, mode: 'receive' })),
    }),
    routes: [
      {
        prefix: '10.9.1.0/24',
        tag: 'communities',
        origin: 'egp',
        med: 90,
        communities: ['65000:900', '65000:901'],
        largeCommunities: [`${O}:9:1`],
        extendedCommunities: [
          { kind: 'route-target', encoding: 'two-octet-as', global: 65000, local: 902 },
        ],
      },
      { prefix: '10.9.9.0/24', tag: 'to-withdraw' },
      {
        prefix: '2001:db8:900::/48',
        tag: 'communities',
        med: 91,
        communities: ['65000:910'],
        largeCommunities: [`${O}:9:10`],
      },
    ],
  };
  const frr: Speaker = {
    label: 'frr-o',
    daemon: 'frr',
    asn: F,
    routerId: '192.0.2.62',
    holdTime: 90,
    capabilities: (s) => ({
      multiprotocol: s.families,
      routeRefresh: true,
      fourOctetAs: F,
      fqdn: { hostname: 'frr-o' },
    }),
    routes: [
      {
        prefix: '10.11.1.0/24',
        tag: 'to-openbgpd',
        med: 0,
        communities: ['65000:1100'],
        note: FRR_MED0,
      },
      {
        prefix: '2001:db8:1100::/48',
        tag: 'to-openbgpd',
        med: 0,
        communities: ['65000:1100'],
        note: FRR_MED0,
      },
    ],
  };
  const v4: SessionSpec = {
    tag: 'openbgpd-frr4',
    a: end(obgpd, link.a.v4),
    b: end(frr, link.b.v4),
    families: ['ipv4-unicast'],
    as4: true,
    addPath: {},
  };
  const v6: SessionSpec = {
    tag: 'openbgpd-frr6',
    a: end(obgpd, link.a.v6, link.a.linkLocal),
    b: end(frr, link.b.v6, link.b.linkLocal),
    families: ['ipv6-unicast'],
    as4: true,
    addPath: {},
  };
  const obgpdConf = `# OpenBGPD side of scenario openbgpd-frr (fixtures/README.md); the launcher prepends socket "..."
AS ${O}
router-id ${obgpd.routerId}
fib-update no
holdtime 150
network 10.9.1.0/24 set { origin egp med 90 community 65000:900 community 65000:901 large-community ${O}:9:1 ext-community rt 65000:902 }
network 2001:db8:900::/48 set { med 91 community 65000:910 large-community ${O}:9:10 }
group "frr" {
  remote-as ${F}
  announce restart yes
  announce refresh yes
  announce enhanced refresh yes
  announce as-4byte yes
  announce add-path recv yes
  neighbor ${link.b.v4} { local-address ${link.a.v4} }
  neighbor ${link.b.v6} { local-address ${link.a.v6} }
}
allow from any
allow to any
`;
  const frrConf = `! FRR side of scenario openbgpd-frr (fixtures/README.md)
frr defaults traditional
hostname frr-o
ip prefix-list OWN4 seq 5 permit 10.11.0.0/16 le 24
ipv6 prefix-list OWN6 seq 5 permit 2001:db8:1100::/40 le 48
route-map RM-C permit 10
 set community 65000:1100
exit
router bgp ${F}
 bgp router-id ${frr.routerId}
 no bgp ebgp-requires-policy
 no bgp network import-check
 timers bgp 30 90
 neighbor ${link.a.v4} remote-as ${O}
 neighbor ${link.a.v4} advertisement-interval 0
 neighbor ${link.a.v6} remote-as ${O}
 neighbor ${link.a.v6} advertisement-interval 0
 address-family ipv4 unicast
  network 10.11.1.0/24 route-map RM-C
  neighbor ${link.a.v4} activate
  neighbor ${link.a.v4} prefix-list OWN4 out
  no neighbor ${link.a.v6} activate
 exit-address-family
 address-family ipv6 unicast
  network 2001:db8:1100::/48 route-map RM-C
  neighbor ${link.a.v6} activate
  neighbor ${link.a.v6} prefix-list OWN6 out
 exit-address-family
exit
`;
  const tl = new Timeline();
  const caps = await captureOn(cleanup, [link]);
  tl.begin('establish');
  const o = await startOpenbgpd(cleanup, { ns: nsO, config: obgpdConf });
  const f = await startFrr(cleanup, { ns: nsF, config: frrConf });
  await o.cli(['network', 'add', '10.9.9.0/24']);
  await soft(f.waitEstablished(link.a.v4, 30_000));
  await soft(f.waitEstablished(link.a.v6, 30_000));
  await sleep(5000);
  tl.begin('refresh-requested-by-openbgpd');
  await o.cli(['neighbor', link.b.v4, 'refresh']);
  await sleep(2000);
  tl.begin('refresh-requested-by-frr');
  await f.cli(`clear bgp ${link.a.v4} soft in`);
  await sleep(3000);
  tl.begin('withdraw');
  await o.cli(['network', 'delete', '10.9.9.0/24']);
  await sleep(3000);
  tl.begin('shutdown');
  await o.cli(['neighbor', link.b.v4, 'down', 'maintenance by openbgpd-a']);
  await sleep(3000);
  tl.end();
  const flows = await stopAll(caps);
  return {
    name: 'openbgpd-frr',
    description: 'OpenBGPD (AS 4200000004) and FRR (AS 4200000002), eBGP, IPv4 and IPv6 sessions',
    speakers: [obgpd, frr],
    sessions: [v4, v6],
    phases: tl.phases,
    flows,
    configs: {
      'openbgpd-frr.bgpd.conf': obgpdConf,
      'openbgpd-frr.bgpctl-commands.sh':
        'bgpctl network add 10.9.9.0/24\n# later: bgpctl network delete 10.9.9.0/24\n',
      'openbgpd-frr.frr.conf': frrConf,
    },
    shutdown: {
      'openbgpd-a': {
        code: 6,
        subcode: 2,
        message: 'maintenance by openbgpd-a',
        session: 'openbgpd-frr4',
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Scenario 7: ExaBGP <-> BIRD, iBGP, every attribute ExaBGP can put on the wire (AS_SET,
// AGGREGATOR, ORIGINATOR_ID, CLUSTER_LIST, an unknown optional transitive attribute).

async function scenarioExabgp(cleanup: Cleanup): Promise<Scenario> {
  const AS = 4200000005;
  const nsE = await makeNode(cleanup, 'pfee');
  const nsB = await makeNode(cleanup, 'pfeb');
  const link = await connect(cleanup, nsE, nsB, 7, 'pfe');
  // A second link for a third session: IPv6 transport, IPv4 NLRI with IPv6 next hops, ADD-PATH.
  const link2 = await connect(cleanup, nsE, nsB, 8, 'pfx');
  const exa: Speaker = {
    label: 'exabgp-a',
    daemon: 'exabgp',
    asn: AS,
    routerId: '192.0.2.71',
    holdTime: 60,
    capabilities: (s) => ({
      multiprotocol: s.families,
      routeRefresh: true,
      gracefulRestart: { restartTime: 120, families: s.families },
      fourOctetAs: AS,
      extendedMessage: true,
      ...(s.tag === 'exabgp-bird6x'
        ? {
            addPath: s.families.map((f) => ({ family: f, mode: 'send' })),
            extendedNextHop: [{ nlri: 'ipv4-unicast', nextHopAfi: 'ipv6' }],
          }
        : {}),
      note: 'host-name/domain-name are configured but ExaBGP 4.2 never sends the FQDN capability',
    }),
    routes: [
      {
        prefix: '10.12.1.0/24',
        tag: 'communities',
        med: 100,
        localPref: 200,
        communities: ['65000:1200', '65000:1201', 'no-export'],
        largeCommunities: [`${AS}:12:1`],
        extendedCommunities: [
          { kind: 'route-target', encoding: 'two-octet-as', global: 65000, local: 1202 },
          { kind: 'route-origin', encoding: 'two-octet-as', global: 65000, local: 1203 },
        ],
      },
      {
        prefix: '10.12.2.0/24',
        tag: 'aggregator-reflected',
        path: [
          { type: 'sequence', asns: [64512, 4200000099] },
          { type: 'set', asns: [64513, 4200000098] },
        ],
        localPref: 100,
        atomicAggregate: true,
        aggregator: { asn: AS, address: '192.0.2.71' },
        originatorId: '192.0.2.77',
        clusterList: ['192.0.2.101', '192.0.2.102'],
      },
      {
        prefix: '10.12.3.0/24',
        tag: 'unknown-attribute',
        localPref: 100,
        unknownAttributes: [{ code: 99, flags: 0xc0, hex: '0102030405' }],
      },
      { prefix: '10.12.9.0/24', tag: 'api-announced', localPref: 100 },
      {
        prefix: '10.12.20.0/24',
        tag: 'addpath-extnh',
        localPref: 100,
        medAnyOf: [5, 6],
        pathIdAnyOf: [1, 2],
        nextHop: link2.a.v6,
        note: 'two paths: path-information 0.0.0.1 (MED 5) and 0.0.0.2 (MED 6), IPv6 next hop (RFC 8950)',
      },
      {
        prefix: '2001:db8:1220::/48',
        tag: 'addpath',
        localPref: 100,
        pathIdAnyOf: [7],
        nextHop: link2.a.v6,
        note: 'path-information 0.0.0.7',
      },
      {
        prefix: '2001:db8:1200::/48',
        tag: 'communities',
        localPref: 120,
        communities: ['65000:1210'],
        largeCommunities: [`${AS}:12:10`],
        nextHop: link.a.v6,
      },
    ],
  };
  const bird: Speaker = {
    label: 'bird-e',
    daemon: 'bird',
    asn: AS,
    routerId: '192.0.2.72',
    holdTime: 180,
    capabilities: BIRD_CAPS('bird-e'),
    routes: [
      { prefix: '10.1.12.0/24', tag: 'ibgp', localPref: 170 },
      { prefix: '2001:db8:112::/48', tag: 'ibgp', localPref: 170 },
    ],
  };
  const v4: SessionSpec = {
    tag: 'exabgp-bird4',
    a: end(exa, link.a.v4),
    b: end(bird, link.b.v4),
    families: ['ipv4-unicast'],
    as4: true,
    addPath: {},
  };
  const v6x: SessionSpec = {
    tag: 'exabgp-bird6x',
    a: end(exa, link2.a.v6, link2.a.linkLocal),
    b: end(bird, link2.b.v6, link2.b.linkLocal),
    families: ['ipv4-unicast', 'ipv6-unicast'],
    as4: true,
    addPath: { 'exabgp-a': ['ipv4-unicast', 'ipv6-unicast'] },
    extendedNextHop: true,
  };
  const v6: SessionSpec = {
    tag: 'exabgp-bird6',
    a: end(exa, link.a.v6, link.a.linkLocal),
    b: end(bird, link.b.v6, link.b.linkLocal),
    families: ['ipv6-unicast'],
    as4: true,
    addPath: {},
  };
  const common = (addr: string, local: string, fam: string) => `neighbor ${addr} {
  router-id ${exa.routerId};
  local-address ${local};
  local-as ${AS};
  peer-as ${AS};
  hold-time 60;
  host-name exabgp-a;
  domain-name example.org;
  family { ${fam}; }
  capability { route-refresh; graceful-restart 120; asn4 enable; extended-message enable; }
  api { processes [ podbgp-api ]; neighbor-changes; receive { parsed; update; notification; open; refresh; } }
`;
  const exaConf = `# ExaBGP side of scenario exabgp-bird (fixtures/README.md); the launcher prepends the api process
${common(link.b.v4, link.a.v4, 'ipv4 unicast')}  static {
    route 10.12.1.0/24 next-hop self origin igp med 100 local-preference 200 community [ 65000:1200 65000:1201 no-export ] large-community [ ${AS}:12:1 ] extended-community [ target:65000:1202 origin:65000:1203 ];
    route 10.12.2.0/24 next-hop self as-path [ 64512 4200000099 ( 64513 4200000098 ) ] local-preference 100 atomic-aggregate aggregator ( ${AS}:192.0.2.71 ) originator-id 192.0.2.77 cluster-list [ 192.0.2.101 192.0.2.102 ];
    route 10.12.3.0/24 next-hop self local-preference 100 attribute [ 0x63 0xc0 0x0102030405 ];
  }
}
${common(link.b.v6, link.a.v6, 'ipv6 unicast')}  static {
    route 2001:db8:1200::/48 next-hop ${link.a.v6} local-preference 120 community [ 65000:1210 ] large-community [ ${AS}:12:10 ];
  }
}
neighbor ${link2.b.v6} {
  router-id ${exa.routerId};
  local-address ${link2.a.v6};
  local-as ${AS};
  peer-as ${AS};
  hold-time 60;
  family { ipv4 unicast; ipv6 unicast; }
  capability { route-refresh; graceful-restart 120; asn4 enable; extended-message enable; nexthop true; add-path send; }
  nexthop { ipv4 unicast ipv6; }
  add-path { ipv4 unicast; ipv6 unicast; }
  api { processes [ podbgp-api ]; neighbor-changes; receive { parsed; update; notification; open; refresh; } }
  static {
    route 10.12.20.0/24 next-hop ${link2.a.v6} path-information 0.0.0.1 med 5 local-preference 100;
    route 10.12.20.0/24 next-hop ${link2.a.v6} path-information 0.0.0.2 med 6 local-preference 100;
    route 2001:db8:1220::/48 next-hop ${link2.a.v6} path-information 0.0.0.7 local-preference 100;
  }
}
`;
  const birdConf = `# BIRD side of scenario exabgp-bird (fixtures/README.md)
router id ${bird.routerId};
hostname "bird-e";
protocol device {}
protocol static s4 { ipv4; route 10.1.12.0/24 blackhole { bgp_local_pref = 170; }; }
protocol static s6 { ipv6; route 2001:db8:112::/48 blackhole { bgp_local_pref = 170; }; }
protocol bgp exa4 {
  local ${link.b.v4} as ${AS};
  neighbor ${link.a.v4} as ${AS};
  hold time 180;
${birdCaps()}
  ipv4 { import all; export all; add paths rx; };
}
protocol bgp exa6x {
  local ${link2.b.v6} as ${AS};
  neighbor ${link2.a.v6} as ${AS};
  hold time 180;
${birdCaps()}
  ipv4 { import all; export none; extended next hop on; add paths rx; };
  ipv6 { import all; export none; add paths rx; };
}
protocol bgp exa6 {
  local ${link.b.v6} as ${AS};
  neighbor ${link.a.v6} as ${AS};
  hold time 180;
${birdCaps()}
  ipv6 { import all; export all; add paths rx; };
}
`;
  const tl = new Timeline();
  const caps = await captureOn(cleanup, [link, link2]);
  tl.begin('establish');
  const b = await startBird(cleanup, { ns: nsB, config: birdConf });
  const e = await startExabgp(cleanup, { ns: nsE, config: exaConf });
  await soft(b.waitEstablished('exa4', 30_000));
  await soft(b.waitEstablished('exa6', 30_000));
  await soft(b.waitEstablished('exa6x', 30_000));
  await e.send(
    `neighbor ${link.b.v4} announce route 10.12.9.0/24 next-hop self local-preference 100`,
  );
  await sleep(5000);
  tl.begin('refresh-requested-by-exabgp');
  await e.send(`neighbor ${link.b.v4} announce route-refresh ipv4 unicast`);
  await sleep(3000);
  tl.begin('refresh-requested-by-bird');
  await b.cli('reload in exa4');
  await sleep(3000);
  tl.begin('withdraw');
  await e.send(`neighbor ${link.b.v4} withdraw route 10.12.9.0/24`);
  await sleep(3000);
  tl.begin('shutdown');
  await e.send(`neighbor ${link.b.v4} teardown 2`);
  await sleep(3000);
  await b.cli('disable exa6 "maintenance by bird-e"');
  await sleep(3000);
  tl.end();
  const flows = await stopAll(caps);
  return {
    name: 'exabgp-bird',
    description:
      'ExaBGP and BIRD, iBGP AS 4200000005, IPv4 and IPv6 sessions, and an IPv6 session with extended next hop and ADD-PATH',
    speakers: [exa, bird],
    sessions: [v4, v6, v6x],
    phases: tl.phases,
    flows,
    configs: {
      'exabgp-bird.exabgp.conf': exaConf,
      'exabgp-bird.exabgp-api-commands.txt':
        [
          `neighbor ${link.b.v4} announce route 10.12.9.0/24 next-hop self local-preference 100`,
          `neighbor ${link.b.v4} announce route-refresh ipv4 unicast`,
          `neighbor ${link.b.v4} withdraw route 10.12.9.0/24`,
          `neighbor ${link.b.v4} teardown 2`,
        ].join('\n') + '\n',
      'exabgp-bird.bird.conf': birdConf,
    },
    shutdown: {
      'bird-e': { code: 6, subcode: 2, message: 'maintenance by bird-e', session: 'exabgp-bird6' },
    },
  };
}

// ---------------------------------------------------------------------------------------------

/** The "Fixture list" section of fixtures/README.md, one table per scenario. */
function fixtureListMarkdown(entries: IndexEntry[]): string {
  const byScenario = new Map<string, IndexEntry[]>();
  for (const f of entries) byScenario.set(f.scenario, [...(byScenario.get(f.scenario) ?? []), f]);
  const out: string[] = [];
  for (const [name, list] of byScenario) {
    out.push('', `### ${name}`, '', '| file | from → to | content |', '| --- | --- | --- |');
    for (const f of list) {
      const e = f.expected as {
        message?: string;
        subtype?: number;
        afi?: number;
        endOfRib?: string;
        routes?: { prefix: string; pathId?: number }[];
        withdrawn?: { prefix: string; pathId?: number }[];
      };
      const o = f.observed as {
        capabilityCodes?: number[];
        attributeCodes?: number[];
        code?: number;
        subcode?: number;
        mpReachNextHopLength?: number;
      };
      const pfx = (r: { prefix: string; pathId?: number }) =>
        r.prefix + (r.pathId !== undefined ? ` (path id ${r.pathId})` : '');
      let what: string;
      if (f.type === 'open')
        what = `OPEN, capability codes ${o.capabilityCodes?.join(', ') || 'none'}`;
      else if (f.type === 'keepalive') what = 'KEEPALIVE';
      else if (f.type === 'notification')
        what = `NOTIFICATION ${o.code}/${o.subcode}${e.message ? ` "${e.message}"` : ''}`;
      else if (f.type === 'route-refresh')
        what = `${['ROUTE-REFRESH', 'BoRR', 'EoRR'][e.subtype ?? 0]} AFI ${e.afi}`;
      else if (e.endOfRib) what = `End-of-RIB ${e.endOfRib}`;
      else if (e.routes)
        what = `UPDATE ${e.routes.map(pfx).join(', ')}; attributes ${o.attributeCodes?.join(', ')}${o.mpReachNextHopLength ? `; MP next hop ${o.mpReachNextHopLength} bytes` : ''}`;
      else what = `UPDATE withdrawing ${(e.withdrawn ?? []).map(pfx).join(', ')}`;
      out.push(`| \`${f.file}\` | ${f.from.speaker} → ${f.to.speaker} | ${what} |`);
    }
  }
  return out.join('\n') + '\n';
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root: network namespaces are needed');
  const only = process.argv.slice(2);
  const available = new Map<DaemonName, string | undefined>();
  const versions = new Map<DaemonName, string>();
  for (const d of ['bird', 'frr', 'gobgp', 'openbgpd', 'exabgp'] as DaemonName[]) {
    const why = await missingReason(d);
    available.set(d, why);
    if (!why) versions.set(d, await versionOf(d));
  }
  const has = (...ds: DaemonName[]) => ds.every((d) => !available.get(d));
  const plan: [string, DaemonName[], (c: Cleanup) => Promise<Scenario>][] = [
    ['bird-frr', ['bird', 'frr'], scenarioBirdFrr],
    ['as2', ['bird', 'frr'], scenarioAs2],
    ['addpath', ['bird', 'frr'], scenarioAddPath],
    ['rr', ['bird', 'frr'], (c) => scenarioRr(c, has('gobgp'))],
    ['gobgp-bird', ['gobgp', 'bird'], scenarioGobgp],
    ['openbgpd-frr', ['openbgpd', 'frr'], scenarioOpenbgpd],
    ['exabgp-bird', ['exabgp', 'bird'], scenarioExabgp],
  ];
  await mkdir(CONFIGS, { recursive: true });
  if (only.length === 0) {
    for (const f of await readdir(FIXTURES)) if (f.endsWith('.hex')) await rm(join(FIXTURES, f));
    for (const f of await readdir(CONFIGS)) await rm(join(CONFIGS, f));
  }
  const out: Written = { entries: [], seen: new Map(), names: new Set() };
  let scenarios: { name: string; description: string; skipped?: string; phases: Phase[] }[] = [];
  if (only.length > 0) {
    // Partial run: keep the other scenarios' fixtures, replace the named ones.
    const old = JSON.parse(
      await readFile(join(FIXTURES, 'index.json'), 'utf8').catch(() => '{}'),
    ) as {
      scenarios?: typeof scenarios;
      problems?: string[];
      fixtures?: IndexEntry[];
    };
    for (const e of old.fixtures ?? []) {
      if (only.includes(e.scenario)) {
        await rm(join(FIXTURES, e.file), { force: true });
        continue;
      }
      const hex = (await readFile(join(FIXTURES, e.file), 'utf8')).replace(/\s+/g, '');
      out.entries.push(e);
      out.names.add(e.file);
      out.seen.set(`${e.daemon}|${e.type === 'keepalive' ? '' : e.session}|${hex}`, e.file);
    }
    scenarios = (old.scenarios ?? []).filter((x) => !only.includes(x.name));
  }
  for (const [name, needs, run] of plan) {
    if (only.length > 0 && !only.includes(name)) continue;
    const missing = needs.map((d) => available.get(d)).filter(Boolean);
    if (missing.length > 0) {
      console.warn(`[${name}] skipped: ${missing.join('; ')}`);
      scenarios.push({ name, description: '', skipped: missing.join('; '), phases: [] });
      continue;
    }
    const cleanup = new Cleanup();
    try {
      console.log(`[${name}] running`);
      const sc = await run(cleanup);
      for (const [file, text] of Object.entries(sc.configs))
        await writeFile(join(CONFIGS, file), text);
      await writeScenario(sc, out, versions);
      scenarios.push({ name: sc.name, description: sc.description, phases: sc.phases });
      console.log(
        `[${name}] done: ${sc.flows.reduce((n, f) => n + f.messages.length, 0)} messages captured`,
      );
    } catch (err) {
      console.error(`[${name}] FAILED: ${(err as Error).stack ?? String(err)}`);
      scenarios.push({
        name,
        description: '',
        skipped: `failed: ${(err as Error).message}`,
        phases: [],
      });
    } finally {
      const errs = await cleanup.run();
      for (const e of errs) console.warn(`[${name}] ${e.message}`);
    }
  }
  out.entries.sort((x, y) => x.file.localeCompare(y.file));
  const order = plan.map(([name]) => name);
  scenarios.sort((x, y) => order.indexOf(x.name) - order.indexOf(y.name));
  const index = {
    generatedBy: 'scripts/capture-fixtures.ts',
    note: 'expected = what each daemon was configured to send (see fixtures/README.md); observed = what the capture script’s tiny splitter saw (codes/lengths only, for cross-checks)',
    versions: Object.fromEntries(versions),
    scenarios,
    problems,
    fixtures: out.entries,
  };
  const indexPath = join(FIXTURES, 'index.json');
  await writeFile(indexPath, JSON.stringify(index, null, 2) + '\n');
  console.log(`wrote ${out.entries.length} fixtures and ${indexPath}`);
  {
    const readmePath = join(FIXTURES, 'README.md');
    const readme = await readFile(readmePath, 'utf8').catch(() => undefined);
    const marker = '\n## Fixture list\n';
    if (readme?.includes(marker)) {
      const head = readme.slice(0, readme.indexOf(marker) + marker.length);
      const intro = readme.slice(head.length).split('\n### ')[0].trimEnd();
      await writeFile(readmePath, `${head}${intro}\n${fixtureListMarkdown(out.entries)}`);
      console.log('updated the fixture list in fixtures/README.md');
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
