// Codec benchmark: 1,000,000 IPv4 prefixes with 50,000 distinct attribute sets (AS paths of
// 1-8 ASNs), packed into <=4096-octet UPDATEs; measures pack, decode and retained heap.
// Prints figures only; it is not a test. Run: npm run bench:codec (needs --expose-gc).

import os from 'node:os';
import { AsPath } from '../protocol/as-path.js';
import { packUpdates } from '../protocol/pack.js';
import { decodeUpdate } from '../protocol/update.js';
import { HEADER_LENGTH } from '../protocol/constants.js';
import type { CodecContext, PathAttributes, PrefixList, UpdateMessage } from '../protocol/types.js';

const PREFIXES = 1_000_000;
const SETS = 50_000;
const ctx: CodecContext = {
  as4: true,
  addPath: { ipv4: false, ipv6: false },
  extendedMessage: false,
  ebgp: false,
};

// A small deterministic PRNG (mulberry32) so every run measures the same input.
let seed = 0x5eed;
function rand(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const randInt = (n: number): number => Math.floor(rand() * n);

function makeSets(): PathAttributes[] {
  const sets: PathAttributes[] = [];
  const nextHops = Array.from({ length: 16 }, (_, i) => `192.0.2.${i + 1}`);
  for (let s = 0; s < SETS; s++) {
    const n = 1 + randInt(8);
    // Mostly 2-octet ASNs with some 4-octet ones, as in a real table.
    const asns = Array.from({ length: n }, () =>
      rand() < 0.8 ? 1 + randInt(64000) : 131072 + randInt(300000),
    );
    const a: PathAttributes = {
      origin: (s % 3) as 0 | 1 | 2,
      asPath: AsPath.sequence(asns),
      nextHop: nextHops[s % nextHops.length],
      med: s, // makes every set distinct
      localPref: 100,
    };
    if (s % 2 === 0) a.communities = [65000 * 65536 + (s % 1000), 65000 * 65536 + 666];
    sets.push(a);
  }
  return sets;
}

/** Distinct prefixes: /24s at 1.0.0.0 + i*256, some shortened where the address is aligned. */
function makePrefixes(): Float64Array {
  const keys = new Float64Array(PREFIXES);
  const base = 0x01000000;
  for (let i = 0; i < PREFIXES; i++) {
    const r = rand();
    let len = r < 0.6 ? 24 : r < 0.75 ? 23 : r < 0.85 ? 22 : r < 0.92 ? 20 : 16;
    if (i % 2 ** (24 - len) !== 0) len = 24;
    keys[i] = (base + i * 256) * 64 + len;
  }
  return keys;
}

function groupBySet(keys: Float64Array): PrefixList[] {
  const owner = new Int32Array(PREFIXES);
  const counts = new Int32Array(SETS);
  for (let i = 0; i < PREFIXES; i++) counts[(owner[i] = randInt(SETS))]++;
  const lists = Array.from(counts, (c) => new Float64Array(c));
  const fill = new Int32Array(SETS);
  for (let i = 0; i < PREFIXES; i++) lists[owner[i]][fill[owner[i]]++] = keys[i];
  return lists.map((v4) => ({ afi: 1, length: v4.length, v4, v6: [], pathIds: null }));
}

/**
 * Seconds of CPU time the process spent in fn (user + system). Other processes share these
 * cores, so CPU time is steadier than wall time; both are one core's work here.
 */
function time(fn: () => void): number {
  const t0 = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1e6;
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g === undefined) throw new Error('run with node --expose-gc');
  g();
  g();
}

const sets = makeSets();
const lists = groupBySet(makePrefixes());

// Pack (encode): every set's prefixes into the fewest UPDATEs. The timed rounds drop the
// messages as a session would after writing them; one untimed round keeps them for decoding.
const packTimes: number[] = [];
for (let round = 0; round < 7; round++) {
  let octets = 0;
  packTimes.push(
    time(() => {
      for (let s = 0; s < SETS; s++)
        for (const m of packUpdates(sets[s], lists[s], ctx)) octets += m.length;
    }),
  );
  if (octets === 0) throw new Error('packed nothing');
}
const messages: Buffer[] = [];
for (let s = 0; s < SETS; s++) messages.push(...packUpdates(sets[s], lists[s], ctx));
const bytes = messages.reduce((n, m) => n + m.length, 0);
const bodies = messages.map((m) => m.subarray(HEADER_LENGTH));

// Decode: every message once per round; the best round is reported.
let decoded = 0;
const decodeTimes: number[] = [];
for (let round = 0; round < 7; round++) {
  let n = 0;
  decodeTimes.push(
    time(() => {
      for (const b of bodies) n += decodeUpdate(b, ctx).nlri.length;
    }),
  );
  decoded = n;
}
if (decoded !== PREFIXES) throw new Error(`decoded ${decoded} prefixes, expected ${PREFIXES}`);

// Retained heap: decode everything again and keep what `pick` selects from each message
// (the input buffers stay alive throughout, so only what decoding added is counted).
function retained(pick: (m: UpdateMessage) => unknown): { heap: number; arrayBuffers: number } {
  gc();
  const before = process.memoryUsage();
  const kept = new Array<unknown>(bodies.length);
  for (let i = 0; i < bodies.length; i++) kept[i] = pick(decodeUpdate(bodies[i], ctx));
  gc();
  const after = process.memoryUsage();
  if (kept.length !== bodies.length) throw new Error('lost messages');
  return {
    heap: after.heapUsed - before.heapUsed,
    arrayBuffers: after.arrayBuffers - before.arrayBuffers,
  };
}
const whole = retained((m) => m);
const listsOnly = retained((m) => m.nlri);

const best = (xs: number[]): number => Math.min(...xs);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const f = (x: number): string => x.toLocaleString('en-US', { maximumFractionDigits: 2 });
console.log(
  `input: ${f(PREFIXES)} IPv4 prefixes, ${f(SETS)} attribute sets, ${f(messages.length)} UPDATEs, ${f(bytes / 1e6)} MB (max ${Math.max(...messages.map((m) => m.length))} octets each)`,
);
console.log(
  `pack:   best ${f(PREFIXES / best(packTimes) / 1e6)} M prefixes/s (median ${f(PREFIXES / median(packTimes) / 1e6)} M/s)`,
);
console.log(
  `decode: best ${f(PREFIXES / best(decodeTimes) / 1e6)} M prefixes/s, ${f(bytes / best(decodeTimes) / 1e6)} MB/s (median ${f(PREFIXES / median(decodeTimes) / 1e6)} M/s)`,
);
const perPrefix = (r: { heap: number; arrayBuffers: number }): number =>
  (r.heap + r.arrayBuffers) / PREFIXES;
console.log(
  `retained per kept prefix, whole messages: ${f(perPrefix(whole))} bytes (V8 heap ${f(whole.heap / PREFIXES)} + ArrayBuffers ${f(whole.arrayBuffers / PREFIXES)}); ${f((whole.heap + whole.arrayBuffers) / messages.length)} bytes per UPDATE`,
);
console.log(`retained per kept prefix, NLRI lists only: ${f(perPrefix(listsOnly))} bytes`);
// What a message costs beyond its 8-octet keys, and how many prefixes per UPDATE would bring
// the whole-message figure to 24 bytes.
const fixed = (whole.heap + whole.arrayBuffers - 8 * PREFIXES) / messages.length;
console.log(
  `fixed cost per UPDATE (message, list, view, attribute set): ${f(fixed)} bytes; ${f(PREFIXES / messages.length)} prefixes per UPDATE here; 24 bytes/prefix needs >= ${f(fixed / 16)}`,
);
console.log(
  `machine: ${os.cpus()[0]?.model ?? '?'}, ${os.cpus().length} CPUs, Node ${process.version}, ${new Date().toISOString()}`,
);
