// Every real BGP message in fixtures/ (BIRD, FRR, GoBGP, OpenBGPD, ExaBGP): decoded with the
// receiving session's context, checked key by key against what its daemon was configured to
// send (index.json `expected`), cross-checked against the capture script's splitter
// (`observed`), re-encoded byte for byte (or after a documented normalisation), and a batch of
// them run through `podbgp decode`. RFC 4271 §4, §5; RFC 4760; RFC 6793; RFC 7911; RFC 8950.

import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { decodeMessage, encodeMessage, messageToJson } from '../../protocol/index.js';
import type { BgpMessage, CodecContext } from '../../protocol/index.js';
import {
  canonicaliseUpdate,
  checkExpected,
  checkObserved,
  cliFlags,
  communityValue,
  contextOf,
  kebabName,
  loadIndex,
  prefixKey,
  rawUpdate,
  readFixture,
  tally,
} from './fixture-expect.js';
import type { FixtureEntry, Json, Normalisation } from './fixture-expect.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DIR = join(ROOT, 'fixtures');
const index = loadIndex(join(DIR, 'index.json'));

/**
 * What "canonical" means here, per message type:
 * - OPEN: byte for byte. The decoder records how capabilities were grouped into optional
 *   parameters (`capabilityParams`; FRR and GoBGP send one capability per parameter) so the
 *   encoder can give back the daemon's exact layout; capability order is kept as received.
 * - NOTIFICATION, KEEPALIVE, ROUTE-REFRESH: byte for byte (one encoding only).
 * - UPDATE: podbgp's canonical form is MP_REACH_NLRI/MP_UNREACH_NLRI first (RFC 7606 §5.1),
 *   then ascending type code (RFC 4271 §5), Extended Length only for values over 255 octets,
 *   and Partial set on unknown optional transitive attributes passed on (RFC 4271 §5). Where a
 *   daemon's bytes are already canonical they must come back byte for byte; otherwise the
 *   daemon's bytes are normalised by the test's own re-serialiser (fixture-expect.ts,
 *   canonicaliseUpdate: attributes reordered / headers rewritten, values untouched) and the
 *   encoder's output must equal that byte for byte. Only the differences documented below for
 *   each daemon are accepted; any other one fails.
 * Every fixture is also decoded again from the encoder's output and must give the same JSON.
 */
const DOCUMENTED: Record<
  string,
  { normalisations: Normalisation[]; extendedLengthCodes: number[] }
> = {
  // BIRD 2 writes MP_REACH_NLRI and MP_UNREACH_NLRI with Extended Length whatever their size.
  bird: { normalisations: ['extended-length'], extendedLengthCodes: [14, 15] },
  // FRR writes AS_PATH, AS4_PATH and the MP attributes with Extended Length always, and puts
  // LARGE_COMMUNITY (32) right after COMMUNITIES, before EXTENDED_COMMUNITIES (16).
  frr: {
    normalisations: ['attribute-order', 'extended-length'],
    extendedLengthCodes: [2, 14, 15, 17],
  },
  // GoBGP sorts all attributes by code, so MP_REACH_NLRI (14) comes after MED/COMMUNITIES.
  gobgp: { normalisations: ['attribute-order'], extendedLengthCodes: [] },
  // OpenBGPD appends MP_REACH_NLRI last, with Extended Length.
  openbgpd: {
    normalisations: ['attribute-order', 'extended-length'],
    extendedLengthCodes: [14, 15],
  },
  // ExaBGP sorts by code (MP_REACH_NLRI after LOCAL_PREF/COMMUNITIES), writes MP_UNREACH_NLRI
  // with Extended Length, and originates its unknown attribute 99 without Partial (as the
  // originator must); podbgp, passing it on, sets Partial.
  exabgp: {
    normalisations: ['attribute-order', 'extended-length', 'partial-bit'],
    extendedLengthCodes: [14, 15],
  },
};

/**
 * Errata: places where index.json's `expected` (written from the configs) says something the
 * captured bytes do not carry, checked against the bytes and the RFC. Each one asserts that
 * index.json still says the old value (so a fixed index.json makes the erratum fail and get
 * removed) and then checks the corrected value instead. Nothing is skipped.
 */
const ERRATA: { file: string; path: string[]; indexSays: unknown; wire: unknown; why: string }[] = [
  'openbgpd-frr4',
  'openbgpd-frr6',
].map((session, i) => ({
  file: `openbgpd-7.7-open-${session}.hex`,
  path: ['capabilities', 'gracefulRestart', 'families'],
  indexSays: [i === 0 ? 'ipv4-unicast' : 'ipv6-unicast'],
  wire: [],
  // Capability 64 on the wire is 40 02 80 00: Restart Flags R=1, Restart Time 0 and no
  // <AFI, SAFI, Flags> tuple at all (RFC 4724 §3 allows an empty list: the speaker only
  // helps a restarting peer). "announce restart yes" does not make OpenBGPD 7.7 list the
  // session's family, so `families: [family]` in index.json cannot be on the wire.
  why: 'OpenBGPD 7.7 announces graceful restart with no address families',
}));

function applyErrata(t: Test, f: FixtureEntry): Json {
  const expected = structuredClone(f.expected);
  for (const e of ERRATA.filter((x) => x.file === f.file)) {
    let o: Json = expected;
    for (const k of e.path.slice(0, -1)) o = o[k] as Json;
    const last = e.path[e.path.length - 1];
    t.same(o[last], e.indexSays, `erratum still needed: expected.${e.path.join('.')}`);
    t.comment(`erratum ${f.file} expected.${e.path.join('.')}: ${e.why}`);
    o[last] = e.wire;
    counts.errata++;
  }
  return expected;
}

function hexOf(b: Buffer): string {
  return b.toString('hex');
}

/** JSON of a decoded message with Partial set on unknown optional transitive attributes. */
function jsonAsPassedOn(msg: BgpMessage): Json {
  const j = messageToJson(msg);
  const attrs = j.attributes as Json | undefined;
  const unknown = attrs?.unknown as { flags: number }[] | undefined;
  if (unknown !== undefined)
    for (const u of unknown) if ((u.flags & 0xc0) === 0xc0) u.flags |= 0x20;
  return j;
}

// ---------------------------------------------------------------------------------------------

t.test('index.json lists every fixture file, and every listed file exists', async (t) => {
  const onDisk = readdirSync(DIR)
    .filter((n) => n.endsWith('.hex'))
    .sort();
  const listed = index.fixtures.map((f) => f.file).sort();
  t.same(listed, [...new Set(listed)], 'no file is listed twice');
  t.same(
    onDisk.filter((n) => !listed.includes(n)),
    [],
    'every .hex is in index.json',
  );
  t.same(
    listed.filter((n) => !onDisk.includes(n)),
    [],
    'every listed file exists',
  );
  t.ok(index.fixtures.length >= 170, `${index.fixtures.length} fixtures`);
});

t.test('index.json is consistent with itself (versions, scenarios, names)', async (t) => {
  t.type(index.generatedBy, 'string');
  t.type(index.note, 'string');
  // fixtures/README.md: "problems: anything that went wrong during the capture run (empty)".
  t.same(index.problems, [], 'the capture run reported no problems');
  const daemons = ['bird', 'frr', 'gobgp', 'openbgpd', 'exabgp'];
  t.same(Object.keys(index.versions).sort(), [...daemons].sort(), 'one version per daemon');
  for (const f of index.fixtures) {
    const where = f.file;
    t.equal(f.version, index.versions[f.daemon], `${where}: version of ${f.daemon}`);
    t.equal(f.from.daemon, f.daemon, `${where}: sent by its daemon`);
    t.ok(f.file.startsWith(`${f.daemon}-${f.version}-${f.kind}`), `${where}: named by kind`);
    const scenario = index.scenarios.find((s) => s.name === f.scenario);
    t.ok(scenario, `${where}: scenario ${f.scenario} is described`);
    t.ok(
      scenario?.phases.some((p) => p.name === f.capturedDuring),
      `${where}: phase ${f.capturedDuring} belongs to the scenario`,
    );
  }
  const types = new Set(index.fixtures.map((f) => `${f.daemon} ${f.type}`));
  for (const d of daemons)
    for (const type of ['open', 'update']) t.ok(types.has(`${d} ${type}`), `an ${type} from ${d}`);
});

// ---------------------------------------------------------------------------------------------

const counts = { identical: 0, normalised: 0, semanticOnly: 0, groupedOpens: 0, errata: 0 };
const byNormalisation: Record<string, number> = {};
/** Decoded messages, kept for the CLI comparison and the ADD-PATH pair checks. */
const decodedByFile = new Map<string, BgpMessage>();

function reEncode(
  t: Test,
  f: FixtureEntry,
  msg: BgpMessage,
  wire: Buffer,
  ctx: CodecContext,
): void {
  let encoded: Buffer;
  try {
    encoded = encodeMessage(msg, ctx);
  } catch (err) {
    t.fail(`encodeMessage threw: ${(err as Error).message}`);
    return;
  }
  // Semantic round trip for every fixture: decoding our bytes gives the same message. A fixture
  // would count as semantic-only if this were its only comparison; none is (see the counts).
  const again = decodeMessage(encoded, 0, ctx).value;
  t.same(messageToJson(again), jsonAsPassedOn(msg), 'decode(encode(decoded)) = decoded');

  if (msg.type !== 'update') {
    // One encoding only (and for OPEN the parameter grouping is carried by capabilityParams).
    if (t.equal(hexOf(encoded), hexOf(wire), 're-encodes byte for byte')) counts.identical++;
    if (msg.type === 'open' && msg.capabilityParams !== undefined) {
      counts.groupedOpens++;
      // Without the recorded grouping the encoder uses one parameter: same capabilities.
      const { capabilityParams: _g, ...plain } = msg;
      const single = decodeMessage(encodeMessage(plain, ctx), 0, ctx).value;
      t.same(messageToJson(single), messageToJson(msg), 'one-parameter OPEN: same capabilities');
    }
    return;
  }
  t.same(canonicaliseUpdate(encoded).applied, [], 'our own encoding is canonical');
  const { bytes, applied } = canonicaliseUpdate(wire);
  if (applied.length === 0) {
    if (t.equal(hexOf(encoded), hexOf(wire), 'canonical on the wire: re-encodes byte for byte'))
      counts.identical++;
    return;
  }
  const doc = DOCUMENTED[f.daemon];
  for (const n of applied)
    t.ok(doc.normalisations.includes(n), `${f.daemon}: ${n} is a documented difference`);
  if (applied.includes('extended-length')) {
    const codes = rawUpdate(wire)
      .attrs.filter((a) => (a.flags & 0x10) !== 0 && a.value.length <= 255)
      .map((a) => a.code);
    for (const code of codes)
      t.ok(
        doc.extendedLengthCodes.includes(code),
        `${f.daemon}: Extended Length on attribute ${code} is documented`,
      );
  }
  if (!t.equal(hexOf(encoded), hexOf(bytes), `equal after normalising ${applied.join(' + ')}`))
    return;
  counts.normalised++;
  const key = applied.join(' + ');
  byNormalisation[key] = (byNormalisation[key] ?? 0) + 1;
}

t.test('every fixture: decode, expected, observed, re-encode', async (t) => {
  for (const f of index.fixtures) {
    t.test(f.file, async (t) => {
      const wire = readFixture(join(DIR, f.file));
      const ctx = contextOf(f);
      const { value: msg, bytesRead } = decodeMessage(wire, 0, ctx);
      decodedByFile.set(f.file, msg);
      t.equal(bytesRead, wire.length, 'one whole message');
      t.equal(msg.type, f.type, `a ${f.type}`);
      if (msg.type !== f.type) return;
      checkExpected(t, { ...f, expected: applyErrata(t, f) }, msg, wire);
      checkObserved(t, f, msg, wire);
      reEncode(t, f, msg, wire, ctx);
    });
  }
});

t.test('ADD-PATH pairs: distinct path ids carry the configured MEDs', async (t) => {
  // A "-2" fixture is the second path of the same prefix (fixtures/README.md). Where expected
  // gives medAnyOf / pathIdAnyOf, the pair together must show every value, each once.
  const groups = new Map<string, FixtureEntry[]>();
  for (const f of index.fixtures) {
    if (f.type !== 'update') continue;
    const base = f.file.replace(/-2\.hex$/, '.hex');
    groups.set(base, [...(groups.get(base) ?? []), f]);
  }
  let pairs = 0;
  for (const [base, fs] of groups) {
    if (fs.length < 2) continue;
    pairs++;
    const routes = fs.map((f) => (f.expected.routes as Json[])[0]);
    const ids = fs.map((f) => {
      const m = decodedByFile.get(f.file);
      return m?.type === 'update'
        ? (m.nlri.pathIds?.[0] ?? m.attributes.mpReach?.nlri?.pathIds?.[0])
        : undefined;
    });
    t.equal(new Set(ids).size, fs.length, `${base}: distinct path ids ${ids.join(', ')}`);
    const medAnyOf = routes[0].medAnyOf as number[] | undefined;
    if (medAnyOf !== undefined) {
      const meds = fs.map((f) => {
        const m = decodedByFile.get(f.file);
        return m?.type === 'update' ? m.attributes.med : undefined;
      });
      t.same([...meds].sort(), [...medAnyOf].sort(), `${base}: one path per configured MED`);
    }
    const idAnyOf = routes[0].pathIdAnyOf as number[] | undefined;
    if (idAnyOf !== undefined)
      t.same([...ids].sort(), [...idAnyOf].sort(), `${base}: the configured path ids`);
  }
  t.ok(pairs >= 4, `${pairs} ADD-PATH pairs`);
});

t.test('re-encoding counts', async (t) => {
  const total = index.fixtures.length;
  t.comment(
    `re-encoding: ${counts.identical} byte-identical, ${counts.normalised} equal after ` +
      `normalisation, ${counts.semanticOnly} semantic-only, of ${total} fixtures ` +
      `(${counts.groupedOpens} OPENs byte-identical thanks to capabilityParams)`,
  );
  for (const [k, n] of Object.entries(byNormalisation)) t.comment(`  normalised ${k}: ${n}`);
  t.comment(`expected keys checked: ${tally.keys}; errata applied: ${counts.errata}`);
  t.equal(counts.errata, ERRATA.length, 'every erratum was used');
  // Every fixture is compared byte for byte, as sent or normalised; none is left semantic.
  t.equal(counts.identical + counts.normalised, total, 'every fixture compared byte for byte');
  t.equal(counts.semanticOnly, 0, 'no fixture compared only semantically');
  // Floors from the capture of fixtures/README.md: a decoder or encoder regression, or a
  // re-capture that changes the mix, shows here.
  t.ok(counts.identical >= 126, `at least 126 byte-identical (${counts.identical})`);
  t.ok(counts.normalised >= 40, `at least 40 normalised (${counts.normalised})`);
  t.ok(counts.groupedOpens >= 10, `at least 10 OPENs with per-parameter grouping`);
  t.ok(tally.keys >= 2000, `at least 2000 expected keys checked (${tally.keys})`);
});

// ---------------------------------------------------------------------------------------------
// `podbgp decode` through the real CLI entry point, one spawn per session context.

interface CliRun {
  code: number | null;
  lines: Json[];
  stderr: string;
}

function runCli(args: string[], input: string | null): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'decode', ...args],
      { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const text = Buffer.concat(out).toString('utf8').trim();
      resolve({
        code,
        lines: text === '' ? [] : text.split('\n').map((l) => JSON.parse(l) as Json),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.end(input ?? '');
  });
}

/** Key facts of the CLI's JSON against `expected` (independent of messageToJson). */
function checkCliFacts(t: Test, f: FixtureEntry, j: Json): void {
  const e = f.expected;
  t.equal(j.type, f.type, 'type');
  switch (f.type) {
    case 'open':
      for (const k of ['version', 'myAs', 'holdTime', 'routerId']) t.equal(j[k], e[k], `open ${k}`);
      // JSON `asn`: the 4-octet capability's, else My AS (AS_TRANS when the ASN needs 4 octets).
      t.equal(
        j.asn,
        (j.capabilities as Json[]).some((c) => c.code === 65) || (e.asn as number) <= 0xffff
          ? e.asn
          : 23456,
        'open asn',
      );
      t.same(
        (j.capabilities as Json[]).map((c) => c.code),
        f.observed.capabilityCodes,
        'capability codes in wire order',
      );
      break;
    case 'notification':
      for (const k of ['code', 'subcode', 'message'])
        if (k in e) t.equal(j[k], e[k], `notification ${k}`);
      if ('name' in e) t.equal(kebabName(j.name as string), e.name, 'notification name');
      break;
    case 'route-refresh':
      for (const k of ['afi', 'safi', 'subtype']) t.equal(j[k], e[k], `route-refresh ${k}`);
      break;
    case 'keepalive':
      t.same(j, { type: 'keepalive' });
      break;
    case 'update': {
      const attrs = j.attributes as Json;
      const mpReach = attrs.mpReach as Json | undefined;
      const mpUnreach = attrs.mpUnreach as Json | undefined;
      const asKey = (p: unknown): string =>
        typeof p === 'string'
          ? p
          : prefixKey({
              prefix: (p as Json).prefix as string,
              pathId: (p as Json).pathId as number,
            });
      const nlri = [...(j.nlri as unknown[]), ...((mpReach?.nlri as unknown[]) ?? [])].map(asKey);
      const gone = [
        ...(j.withdrawn as unknown[]),
        ...((mpUnreach?.withdrawn as unknown[]) ?? []),
      ].map(asKey);
      const routes = (e.routes as Json[] | undefined) ?? [];
      t.same(
        nlri.sort(),
        routes
          .map((r) =>
            prefixKey({
              prefix: r.prefix as string,
              pathId: typeof r.pathId === 'number' ? r.pathId : null,
            }),
          )
          .sort(),
        'announced prefixes (with path ids)',
      );
      t.same(
        gone.sort(),
        ((e.withdrawn as Json[] | undefined) ?? [])
          .map((w) =>
            prefixKey({
              prefix: w.prefix as string,
              pathId: typeof w.pathId === 'number' ? w.pathId : null,
            }),
          )
          .sort(),
        'withdrawn prefixes',
      );
      t.equal(j.endOfRib, e.endOfRib, 'endOfRib');
      const r = routes[0];
      if (r === undefined) break;
      t.equal(attrs.origin, r.origin, 'origin name');
      const seg = (s: Json): string =>
        s.type === 'set'
          ? `set{${[...(s.asns as number[])].sort((a, b) => a - b).join(',')}}`
          : `${String(s.type)}(${(s.asns as number[]).join(',')})`;
      t.same((attrs.asPath as Json[]).map(seg), (r.asPath as Json[]).map(seg), 'asPath (4-octet)');
      if (r.communities !== undefined) {
        // The JSON form uses the well-known names; compare as values to allow any order.
        const val = (x: unknown): number => communityValue(x as string, 'cli');
        t.same(
          (attrs.communities as string[]).map(val).sort((a, b) => a - b),
          (r.communities as string[]).map(val).sort((a, b) => a - b),
          'communities',
        );
        t.same(
          (attrs.communities as string[]).filter((c) => !/^\d+:\d+$/.test(c)).sort(),
          (r.communities as string[]).filter((c) => !/^\d+:\d+$/.test(c)).sort(),
          'well-known communities printed by name',
        );
      }
      if (r.largeCommunities !== undefined)
        t.same(
          [...(attrs.largeCommunities as string[])].sort(),
          [...(r.largeCommunities as string[])].sort(),
          'large communities',
        );
      if (typeof r.med === 'number') t.equal(attrs.med, r.med, 'med');
      if (typeof r.localPref === 'number') t.equal(attrs.localPref, r.localPref, 'localPref');
      break;
    }
  }
}

t.test('podbgp decode (CLI) prints the same JSON, batched per session context', async (t) => {
  // Three contexts cover every message type and the context flags: the common eBGP 4-octet
  // one (stdin), the 2-octet session (--as2, via --file), and ADD-PATH on both families (iBGP).
  const same = (f: FixtureEntry, as4: boolean, addPath: string[], ebgp: boolean): boolean =>
    f.context.fourOctetAs === as4 &&
    f.context.addPath.join() === addPath.join() &&
    f.context.ebgp === ebgp;
  const batches = [
    { name: 'eBGP, 4-octet AS', pick: (f: FixtureEntry) => same(f, true, [], true), file: false },
    { name: '2-octet AS (--as2)', pick: (f: FixtureEntry) => same(f, false, [], true), file: true },
    {
      name: 'ADD-PATH ipv4,ipv6, iBGP',
      pick: (f: FixtureEntry) => same(f, true, ['ipv4-unicast', 'ipv6-unicast'], false),
      file: false,
    },
  ];
  const dir = t.testdir({});
  const runs = batches.map((b, i) => {
    const fixtures = index.fixtures.filter(b.pick);
    const hex = fixtures.map((f) => hexOf(readFixture(join(DIR, f.file)))).join('\n');
    const flags = cliFlags(fixtures[0]);
    if (!b.file) return { b, fixtures, flags, run: runCli(flags, hex) };
    const path = join(dir, `batch-${i}.hex`);
    writeFileSync(path, hex);
    return { b, fixtures, flags, run: runCli([...flags, '--file', path], null) };
  });
  const typesSeen = new Set<string>();
  for (const { b, fixtures, flags, run } of runs) {
    const r = await run;
    t.test(
      `${b.name}: ${fixtures.length} messages, flags ${flags.join(' ') || '(none)'}`,
      async (t) => {
        t.equal(r.code, 0, `exit status 0 ${r.stderr}`);
        t.equal(r.lines.length, fixtures.length, 'one JSON line per message');
        fixtures.forEach((f, i) => {
          const j = r.lines[i] ?? {};
          const msg = decodedByFile.get(f.file);
          typesSeen.add(f.type);
          t.test(f.file, async (t) => {
            if (msg === undefined) t.fail('not decoded in process (see the test above)');
            else t.same(j, messageToJson(msg), 'the library JSON, exactly');
            checkCliFacts(t, f, j);
          });
        });
      },
    );
  }
  t.same(
    [...typesSeen].sort(),
    ['keepalive', 'notification', 'open', 'route-refresh', 'update'],
    'every message type went through the CLI',
  );
});
