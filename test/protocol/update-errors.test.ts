// One malformed UPDATE for every rule of RFC 4271 §6.3 and RFC 7606 §3, §4, §5.3 and §7 (plus
// RFC 6793 §6 and RFC 8092 §6), each asserting the action, the NOTIFICATION code and subcode,
// and where the RFC names it, the data. Messages are built octet by octet here.

import t, { type Test } from 'tap';
import { decodeUpdate } from '../../protocol/update.js';
import { updateToJson } from '../../protocol/update-json.js';
import { BgpError } from '../../protocol/errors.js';
import type { ErrorHandling } from '../../protocol/errors.js';
import { prefixListToStrings } from '../../protocol/prefix.js';
import type { CodecContext, UpdateMessage } from '../../protocol/types.js';

const IBGP: CodecContext = {
  as4: true,
  addPath: { ipv4: false, ipv6: false },
  extendedMessage: false,
  ebgp: false,
};
const EBGP: CodecContext = { ...IBGP, ebgp: true };
const AS2: CodecContext = { ...IBGP, as4: false };

/** One path attribute: flags, type code, length (two octets with Extended Length), value. */
function attr(flags: number, code: number, value: number[]): number[] {
  return flags & 0x10
    ? [flags, code, value.length >> 8, value.length & 255, ...value]
    : [flags, code, value.length, ...value];
}

/** An UPDATE body: Withdrawn Routes Length, Withdrawn Routes, Total Path Attribute Length, ... */
function body(withdrawn: number[], attrs: number[], nlri: number[]): Buffer {
  return Buffer.from([
    withdrawn.length >> 8,
    withdrawn.length & 255,
    ...withdrawn,
    attrs.length >> 8,
    attrs.length & 255,
    ...attrs,
    ...nlri,
  ]);
}

const ORIGIN = attr(0x40, 1, [0]);
const AS_PATH = attr(0x40, 2, [2, 1, 0, 0, 0xfd, 0xe9]); // AS_SEQUENCE [65001], 4-octet ASNs
const AS_PATH2 = attr(0x40, 2, [2, 1, 0xfd, 0xe9]); // the same with 2-octet ASNs
const NEXT_HOP = attr(0x40, 3, [192, 0, 2, 1]);
const NLRI = [24, 10, 0, 1]; // 10.0.1.0/24
/** An MP_REACH_NLRI for 2001:db8::/32 via 2001:db8::1. */
const V6_NH = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const MP_REACH = attr(0x80, 14, [0, 2, 1, 16, ...V6_NH, 0, 32, 0x20, 0x01, 0x0d, 0xb8]);

/** A well-formed announcement with `extra` attributes appended. */
function announce(extra: number[], base = [...ORIGIN, ...AS_PATH, ...NEXT_HOP]): Buffer {
  return body([], [...base, ...extra], NLRI);
}

function resets(
  t: Test,
  name: string,
  b: Buffer,
  ctx: CodecContext,
  code: number,
  subcode: number,
  data?: number[],
): void {
  let caught: unknown = null;
  try {
    decodeUpdate(b, ctx);
  } catch (err) {
    caught = err;
  }
  if (!(caught instanceof BgpError)) {
    t.fail(`${name}: expected a BgpError, got ${String(caught)}`);
    return;
  }
  t.equal(caught.handling, 'session-reset', `${name}: session-reset`);
  t.same(
    [caught.notification.code, caught.notification.subcode],
    [code, subcode],
    `${name}: ${code}/${subcode}`,
  );
  if (data !== undefined) t.same([...caught.notification.data], data, `${name}: data`);
}

/** Asserts that the strongest collected error has this action and subcode; returns the message. */
function verdict(
  t: Test,
  name: string,
  b: Buffer,
  ctx: CodecContext,
  handling: ErrorHandling,
  subcode: number,
  data?: number[],
): UpdateMessage {
  const msg = decodeUpdate(b, ctx);
  const errs = msg.errors ?? [];
  const found = errs.find((e) => e.handling === handling && e.notification.subcode === subcode);
  t.ok(
    found,
    `${name}: ${handling} with subcode ${subcode} (got ${errs.map((e) => `${e.handling} ${e.notification.subcode}`).join(', ')})`,
  );
  if (found !== undefined) {
    t.equal(found.notification.code, 3, `${name}: UPDATE Message Error`);
    if (data !== undefined) t.same([...found.notification.data], data, `${name}: data`);
  }
  t.equal(
    msg.treatAsWithdraw,
    errs.some((e) => e.handling === 'treat-as-withdraw'),
    `${name}: treatAsWithdraw flag`,
  );
  t.equal(
    (updateToJson(msg).error as { action: string }).action,
    handling,
    `${name}: JSON error action`,
  );
  return msg;
}

t.test('RFC 4271 §6.1/§6.3: message-level length errors reset the session', async (t) => {
  // Shorter than the two length fields: an UPDATE below 23 octets is a Bad Message Length.
  resets(t, 'body of 3 octets', Buffer.from([0, 0, 0]), IBGP, 1, 2, [0, 22]);
  resets(
    t,
    'Withdrawn Routes Length too large',
    Buffer.from([0, 9, 24, 10, 0, 1, 0, 0]),
    IBGP,
    3,
    1,
  );
  resets(
    t,
    'Total Path Attribute Length too large',
    body([], ORIGIN, []).subarray(0, 6),
    IBGP,
    3,
    1,
  );
  resets(
    t,
    'attribute length field past the end',
    Buffer.from([0, 0, 0, 40, ...ORIGIN]),
    IBGP,
    3,
    1,
  );
});

t.test(
  'RFC 4271 §6.3, RFC 7606 §3 (h), §5.3: malformed prefix fields reset the session',
  async (t) => {
    resets(
      t,
      'NLRI prefix length 33',
      body([], [...ORIGIN, ...AS_PATH, ...NEXT_HOP], [33, 1, 2, 3, 4, 5]),
      IBGP,
      3,
      10,
    );
    resets(
      t,
      'NLRI prefix overruns',
      body([], [...ORIGIN, ...AS_PATH, ...NEXT_HOP], [24, 10, 0]),
      IBGP,
      3,
      10,
    );
    resets(t, 'withdrawn prefix length 40', body([40, 1, 2, 3, 4, 5], [], []), IBGP, 3, 10);
    resets(t, 'withdrawn prefix overruns', body([16, 10], [], []), IBGP, 3, 10);
    resets(
      t,
      'ADD-PATH NLRI with a cut path id',
      body([], [...ORIGIN, ...AS_PATH, ...NEXT_HOP], [0, 0, 1]),
      { ...IBGP, addPath: { ipv4: true, ipv6: false } },
      3,
      10,
    );
  },
);

t.test('RFC 7606 §4: attribute lengths in conflict with the Total Attribute Length', async (t) => {
  // The last attribute overruns the field: treat-as-withdraw, NLRI still found.
  const over = body([], [...ORIGIN, ...AS_PATH, ...NEXT_HOP, 0x80, 4, 9, 0, 0], NLRI);
  const m = verdict(t, 'attribute overruns', over, IBGP, 'treat-as-withdraw', 5);
  t.same(prefixListToStrings(m.nlri), ['10.0.1.0/24'], 'the NLRI is still located');
  // Fewer than three octets left: treat-as-withdraw.
  verdict(
    t,
    'two trailing octets',
    body([], [...ORIGIN, ...AS_PATH, ...NEXT_HOP, 0x80, 4], NLRI),
    IBGP,
    'treat-as-withdraw',
    1,
  );
  verdict(
    t,
    'extended header cut',
    body([], [...ORIGIN, ...AS_PATH, ...NEXT_HOP, 0x90, 4, 0], NLRI),
    IBGP,
    'treat-as-withdraw',
    1,
  );
  // An MP attribute that overruns cannot be parsed, so its routes cannot be withdrawn.
  resets(
    t,
    'MP_REACH_NLRI overruns',
    body([], [...ORIGIN, ...AS_PATH, 0x80, 14, 60, 0, 2, 1], []),
    IBGP,
    3,
    5,
  );
});

t.test('RFC 4271 §6.3: unrecognised attributes', async (t) => {
  const wk = attr(0x40, 99, [1, 2]);
  resets(t, 'unrecognised well-known', announce(wk), IBGP, 3, 2, wk);
  const m = decodeUpdate(announce(attr(0xc0, 99, [1, 2])), IBGP);
  t.equal(m.errors, undefined, 'unknown optional transitive is no error');
  t.same(
    m.attributes.unknown?.map((u) => [u.code, u.flags, [...u.value]]),
    [[99, 0xc0, [1, 2]]],
  );
});

t.test('RFC 7606 §3 (c): Optional/Transitive flags in conflict: treat-as-withdraw', async (t) => {
  const bad = attr(0xc0, 1, [0]);
  verdict(
    t,
    'ORIGIN marked optional',
    announce([], [...bad, ...AS_PATH, ...NEXT_HOP]),
    IBGP,
    'treat-as-withdraw',
    4,
    bad,
  );
  verdict(
    t,
    'MED marked transitive',
    announce(attr(0xc0, 4, [0, 0, 0, 1])),
    IBGP,
    'treat-as-withdraw',
    4,
  );
  verdict(
    t,
    'COMMUNITIES marked non-transitive',
    announce(attr(0x80, 8, [0, 0, 0, 1])),
    IBGP,
    'treat-as-withdraw',
    4,
  );
  // The Partial and Extended Length bits are not in conflict with anything.
  t.equal(
    decodeUpdate(announce(attr(0xe0 | 0x10, 8, [0, 0, 0, 1])), IBGP).errors,
    undefined,
    'Partial + Extended Length accepted',
  );
  // MP_REACH_NLRI with bad flags is still parsed so its prefixes can be withdrawn (§3 (i)).
  const mp = [...MP_REACH];
  mp[0] = 0xc0;
  const m = verdict(
    t,
    'MP_REACH_NLRI marked transitive',
    body([], [...mp, ...ORIGIN, ...AS_PATH], []),
    IBGP,
    'treat-as-withdraw',
    4,
  );
  t.same(m.attributes.mpReach?.nlri ? prefixListToStrings(m.attributes.mpReach.nlri) : null, [
    '2001:db8::/32',
  ]);
});

t.test('RFC 7606 §3 (g): repeated attributes', async (t) => {
  const m = verdict(t, 'ORIGIN twice', announce(attr(0x40, 1, [2])), IBGP, 'attribute-discard', 1);
  t.equal(m.attributes.origin, 0, 'the first ORIGIN is kept');
  t.equal(m.treatAsWithdraw, false);
  resets(
    t,
    'MP_REACH_NLRI twice',
    body([], [...MP_REACH, ...MP_REACH, ...ORIGIN, ...AS_PATH], []),
    IBGP,
    3,
    1,
  );
  const unreach = attr(0x80, 15, [0, 2, 1]);
  resets(t, 'MP_UNREACH_NLRI twice', body([], [...unreach, ...unreach], []), IBGP, 3, 1);
  const m2 = verdict(
    t,
    'unknown optional twice',
    announce([...attr(0xc0, 99, [1]), ...attr(0xc0, 99, [2])]),
    IBGP,
    'attribute-discard',
    1,
  );
  t.same(
    m2.attributes.unknown?.map((u) => [...u.value]),
    [[1]],
  );
});

t.test('RFC 4271 §6.3, RFC 7606 §3 (d): missing well-known attributes', async (t) => {
  verdict(
    t,
    'no ORIGIN',
    body([], [...AS_PATH, ...NEXT_HOP], NLRI),
    IBGP,
    'treat-as-withdraw',
    3,
    [1],
  );
  verdict(
    t,
    'no AS_PATH',
    body([], [...ORIGIN, ...NEXT_HOP], NLRI),
    IBGP,
    'treat-as-withdraw',
    3,
    [2],
  );
  verdict(
    t,
    'no NEXT_HOP',
    body([], [...ORIGIN, ...AS_PATH], NLRI),
    IBGP,
    'treat-as-withdraw',
    3,
    [3],
  );
  verdict(
    t,
    'MP_REACH_NLRI without ORIGIN',
    body([], [...MP_REACH, ...AS_PATH], []),
    IBGP,
    'treat-as-withdraw',
    3,
    [1],
  );
  // RFC 4760 §3: with MP_REACH_NLRI alone, NEXT_HOP is not required.
  t.equal(
    decodeUpdate(body([], [...MP_REACH, ...ORIGIN, ...AS_PATH], []), IBGP).errors,
    undefined,
    'MP-only needs no NEXT_HOP',
  );
  // Nothing is announced, so nothing is missing.
  t.equal(
    decodeUpdate(body([24, 10, 0, 1], [...attr(0x80, 4, [0, 0, 0, 1])], []), IBGP).errors,
    undefined,
    'withdraw-only',
  );
});

t.test('RFC 7606 §7.1: ORIGIN', async (t) => {
  verdict(
    t,
    'ORIGIN length 2',
    announce([], [...attr(0x40, 1, [0, 0]), ...AS_PATH, ...NEXT_HOP]),
    IBGP,
    'treat-as-withdraw',
    5,
  );
  const bad = attr(0x40, 1, [3]);
  verdict(
    t,
    'ORIGIN value 3',
    announce([], [...bad, ...AS_PATH, ...NEXT_HOP]),
    IBGP,
    'treat-as-withdraw',
    6,
    bad,
  );
});

t.test('RFC 7606 §7.2: AS_PATH', async (t) => {
  const cases: [string, number[], CodecContext][] = [
    ['segment type 5', [5, 1, 0, 0, 0, 1], IBGP],
    ['segment type 0', [0, 1, 0, 0, 0, 1], IBGP],
    ['segment length zero', [2, 0], IBGP],
    ['segment overruns', [2, 2, 0, 0, 0, 1], IBGP],
    ['one octet left over', [2, 1, 0, 0, 0, 1, 2], IBGP],
    ['2-octet path read as 4-octet', [2, 1, 0xfd, 0xe9], IBGP],
    ['4-octet path read as 2-octet', [2, 1, 0, 0, 0xfd, 0xe9], AS2],
    [
      'AS_CONFED_SEQUENCE from an external peer',
      [3, 1, 0, 0, 0xfd, 0xe9, 2, 1, 0, 0, 0xfd, 0xea],
      EBGP,
    ],
  ];
  for (const [name, value, ctx] of cases) {
    verdict(
      t,
      name,
      announce([], [...ORIGIN, ...attr(0x40, 2, value), ...NEXT_HOP]),
      ctx,
      'treat-as-withdraw',
      11,
      [],
    );
  }
  const ok = decodeUpdate(
    announce([], [...ORIGIN, ...attr(0x40, 2, [3, 1, 0, 0, 0xfd, 0xe9]), ...NEXT_HOP]),
    IBGP,
  );
  t.equal(ok.errors, undefined, 'confederation segments from an internal peer are fine');
});

t.test('RFC 7606 §7.3: NEXT_HOP', async (t) => {
  verdict(
    t,
    'NEXT_HOP length 5',
    announce([], [...ORIGIN, ...AS_PATH, ...attr(0x40, 3, [10, 0, 0, 1, 0])]),
    IBGP,
    'treat-as-withdraw',
    5,
  );
  for (const nh of [
    [0, 0, 0, 0],
    [127, 0, 0, 1],
    [224, 0, 0, 5],
    [255, 255, 255, 255],
    [240, 1, 1, 1],
  ]) {
    const a = attr(0x40, 3, nh);
    verdict(
      t,
      `NEXT_HOP ${nh.join('.')}`,
      announce([], [...ORIGIN, ...AS_PATH, ...a]),
      IBGP,
      'treat-as-withdraw',
      8,
      a,
    );
  }
});

t.test('RFC 4760 §3: a bad NEXT_HOP beside MP_REACH_NLRI alone is only discarded', async (t) => {
  const bad = attr(0x40, 3, [0, 0, 0, 0]);
  const m = verdict(
    t,
    'NEXT_HOP 0.0.0.0, no IPv4 NLRI',
    body([], [...MP_REACH, ...ORIGIN, ...AS_PATH, ...bad], []),
    IBGP,
    'attribute-discard',
    8,
    bad,
  );
  t.equal(m.attributes.nextHop, undefined);
  t.ok(m.attributes.mpReach, 'the MP routes stand');
  verdict(
    t,
    'NEXT_HOP of 2 octets, no IPv4 NLRI',
    body([], [...MP_REACH, ...ORIGIN, ...AS_PATH, ...attr(0x40, 3, [1, 2])], []),
    IBGP,
    'attribute-discard',
    5,
  );
});

t.test('RFC 7606 §7.4: MULTI_EXIT_DISC', async (t) => {
  verdict(t, 'MED length 3', announce(attr(0x80, 4, [0, 0, 1])), IBGP, 'treat-as-withdraw', 5);
});

t.test('RFC 7606 §7.5: LOCAL_PREF', async (t) => {
  const m = verdict(
    t,
    'LOCAL_PREF from eBGP',
    announce(attr(0x40, 5, [0, 0, 0, 100])),
    EBGP,
    'attribute-discard',
    9,
  );
  t.equal(m.attributes.localPref, undefined, 'discarded');
  verdict(
    t,
    'LOCAL_PREF from eBGP, bad length',
    announce(attr(0x40, 5, [0, 100])),
    EBGP,
    'attribute-discard',
    9,
  );
  verdict(
    t,
    'LOCAL_PREF length 2 from iBGP',
    announce(attr(0x40, 5, [0, 100])),
    IBGP,
    'treat-as-withdraw',
    5,
  );
});

t.test('RFC 7606 §7.6, §7.7: ATOMIC_AGGREGATE and AGGREGATOR', async (t) => {
  const m = verdict(
    t,
    'ATOMIC_AGGREGATE length 1',
    announce(attr(0x40, 6, [0])),
    IBGP,
    'attribute-discard',
    5,
  );
  t.equal(m.attributes.atomicAggregate, undefined);
  verdict(
    t,
    'AGGREGATOR of 6 octets on a 4-octet session',
    announce(attr(0xc0, 7, [0xfd, 0xe9, 10, 0, 0, 1])),
    IBGP,
    'attribute-discard',
    5,
  );
  verdict(
    t,
    'AGGREGATOR of 8 octets on a 2-octet session',
    announce(attr(0xc0, 7, [0, 0, 0xfd, 0xe9, 10, 0, 0, 1]), [...ORIGIN, ...AS_PATH2, ...NEXT_HOP]),
    AS2,
    'attribute-discard',
    5,
  );
});

t.test('RFC 7606 §7.8: COMMUNITIES', async (t) => {
  verdict(t, 'COMMUNITIES length 0', announce(attr(0xc0, 8, [])), IBGP, 'treat-as-withdraw', 5);
  verdict(
    t,
    'COMMUNITIES length 5',
    announce(attr(0xc0, 8, [0, 0, 0, 1, 2])),
    IBGP,
    'treat-as-withdraw',
    5,
  );
});

t.test('RFC 7606 §7.9, §7.10: ORIGINATOR_ID and CLUSTER_LIST', async (t) => {
  verdict(
    t,
    'ORIGINATOR_ID from eBGP',
    announce(attr(0x80, 9, [10, 0, 0, 1])),
    EBGP,
    'attribute-discard',
    9,
  );
  verdict(
    t,
    'ORIGINATOR_ID length 5',
    announce(attr(0x80, 9, [10, 0, 0, 1, 1])),
    IBGP,
    'treat-as-withdraw',
    5,
  );
  verdict(
    t,
    'CLUSTER_LIST from eBGP',
    announce(attr(0x80, 10, [10, 0, 0, 1])),
    EBGP,
    'attribute-discard',
    9,
  );
  verdict(
    t,
    'CLUSTER_LIST length 6',
    announce(attr(0x80, 10, [10, 0, 0, 1, 0, 0])),
    IBGP,
    'treat-as-withdraw',
    5,
  );
  verdict(t, 'CLUSTER_LIST length 0', announce(attr(0x80, 10, [])), IBGP, 'treat-as-withdraw', 5);
});

t.test('RFC 7606 §7.11, RFC 4760 §7: MP_REACH_NLRI errors reset the session', async (t) => {
  const base = [...ORIGIN, ...AS_PATH];
  const cases: [string, number[]][] = [
    ['shorter than 5 octets', [0, 2, 1, 0]],
    ['next hop overruns', [0, 2, 1, 16, 1, 2, 3]],
    ['IPv6 next hop of 4 octets', [0, 2, 1, 4, 10, 0, 0, 1, 0]],
    ['IPv6 next hop of 20 octets', [0, 2, 1, 20, ...new Array(20).fill(1), 0]],
    ['IPv4 next hop of 8 octets', [0, 1, 1, 8, 10, 0, 0, 1, 10, 0, 0, 2, 0]],
    ['IPv6 prefix length 129', [0, 2, 1, 16, ...V6_NH, 0, 129, ...new Array(17).fill(0)]],
    ['IPv6 prefix overruns', [0, 2, 1, 16, ...V6_NH, 0, 48, 0x20, 0x01]],
  ];
  for (const [name, value] of cases) {
    const a = attr(0x80, 14, value);
    resets(t, `MP_REACH_NLRI ${name}`, body([], [...a, ...base], []), IBGP, 3, 9, a);
  }
});

t.test('RFC 7606 §7.12, RFC 4760 §7: MP_UNREACH_NLRI errors reset the session', async (t) => {
  const short = attr(0x80, 15, [0, 2]);
  resets(t, 'MP_UNREACH_NLRI shorter than 3 octets', body([], short, []), IBGP, 3, 9, short);
  const bad = attr(0x80, 15, [0, 1, 1, 33, 1, 2, 3, 4, 5]);
  resets(t, 'MP_UNREACH_NLRI IPv4 prefix length 33', body([], bad, []), IBGP, 3, 9, bad);
  const addPath = attr(0x80, 15, [0, 2, 1, 0, 0, 0]);
  resets(
    t,
    'MP_UNREACH_NLRI ADD-PATH id cut',
    body([], addPath, []),
    { ...IBGP, addPath: { ipv4: false, ipv6: true } },
    3,
    9,
  );
});

t.test('RFC 7606 §7.14 and RFC 8092 §6: extended and large communities', async (t) => {
  verdict(
    t,
    'EXTENDED_COMMUNITIES length 7',
    announce(attr(0xc0, 16, [0, 2, 0, 1, 0, 0, 0])),
    IBGP,
    'treat-as-withdraw',
    5,
  );
  verdict(
    t,
    'EXTENDED_COMMUNITIES length 0',
    announce(attr(0xc0, 16, [])),
    IBGP,
    'treat-as-withdraw',
    5,
  );
  verdict(
    t,
    'LARGE_COMMUNITY length 11',
    announce(attr(0xc0, 32, new Array(11).fill(0))),
    IBGP,
    'treat-as-withdraw',
    5,
  );
  verdict(
    t,
    'LARGE_COMMUNITY length 0',
    announce(attr(0xc0, 32, [])),
    IBGP,
    'treat-as-withdraw',
    5,
  );
});

t.test('RFC 6793 §4.1, §6: AS4_PATH and AS4_AGGREGATOR', async (t) => {
  const as4Path = attr(0xc0, 17, [2, 1, 0xfa, 0x56, 0xea, 0x00]);
  const m = verdict(
    t,
    'AS4_PATH on a 4-octet session',
    announce(as4Path),
    IBGP,
    'attribute-discard',
    9,
  );
  t.equal(m.attributes.as4Path, undefined);
  const base2 = [...ORIGIN, ...AS_PATH2, ...NEXT_HOP];
  verdict(
    t,
    'AS4_PATH with a zero-length segment',
    announce(attr(0xc0, 17, [2, 0]), base2),
    AS2,
    'attribute-discard',
    9,
  );
  verdict(
    t,
    'AS4_PATH with a confederation segment',
    announce(attr(0xc0, 17, [3, 1, 0, 0, 0xfd, 0xe9]), base2),
    AS2,
    'attribute-discard',
    9,
  );
  verdict(
    t,
    'AS4_AGGREGATOR on a 4-octet session',
    announce(attr(0xc0, 18, [0, 0, 0xfd, 0xe9, 10, 0, 0, 1])),
    IBGP,
    'attribute-discard',
    9,
  );
  verdict(
    t,
    'AS4_AGGREGATOR of 6 octets',
    announce(attr(0xc0, 18, [0xfd, 0xe9, 10, 0, 0, 1]), base2),
    AS2,
    'attribute-discard',
    5,
  );
});

t.test(
  'RFC 7606 §3 (g): the strongest action wins; treat-as-withdraw keeps every prefix',
  async (t) => {
    const b = body(
      [16, 10, 9],
      [...MP_REACH, ...attr(0x40, 1, [7]), ...AS_PATH, ...NEXT_HOP, ...attr(0x40, 6, [1])],
      NLRI,
    );
    const m = decodeUpdate(b, IBGP);
    t.same(
      m.errors?.map((e) => e.handling),
      ['treat-as-withdraw', 'attribute-discard'],
    );
    t.equal(m.treatAsWithdraw, true);
    t.same(updateToJson(m).error, {
      action: 'treat-as-withdraw',
      code: 3,
      subcode: 6,
      reason: 'ORIGIN value 7 is undefined',
    });
    t.same(prefixListToStrings(m.withdrawn), ['10.9.0.0/16'], 'withdrawn routes kept');
    t.same(prefixListToStrings(m.nlri), ['10.0.1.0/24'], 'NLRI kept');
    t.same(
      m.attributes.mpReach?.nlri ? prefixListToStrings(m.attributes.mpReach.nlri) : [],
      ['2001:db8::/32'],
      'MP NLRI kept',
    );
  },
);
