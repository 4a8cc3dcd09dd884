// The `ip -json route show` scanner gives, for every route, the same prefix and the same route
// (by routeKey) as JSON.parse plus parseJsonRoute, for random tables of mixed shapes, compact or
// pretty-printed, read once or again with its shape cache warm; malformed output is an error.
import fc from 'fast-check';
import t from 'tap';
import { canonicalPrefix } from '../../src/kernel/addr.js';
import {
  RouteRead,
  RouteScanner,
  ShapeTextCache,
  scanRoutes,
} from '../../src/kernel/read-routes.js';
import { parseJsonRoute, routeKey, type JsonRoute } from '../../src/kernel/routes.js';
import { SHAPE_FOREIGN, ShapeTable } from '../../src/kernel/shapes.js';
import { canonicalV4Text } from '../../src/kernel/v4-key.js';

const gw = fc.constantFrom('192.168.30.72', '192.168.26.9', '10.0.0.1');
const dev = fc.constantFrom('eth0', 'ens33', 'tunl0');
const nhArb = fc.record({ gateway: gw, dev, weight: fc.constantFrom(1, 2), onlink: fc.boolean() });

/** One route object as iproute2 prints it (field order as ip prints it). */
const routeArb = fc
  .tuple(
    fc.nat(1 << 20),
    fc.constantFrom(24, 26, 32),
    fc.constantFrom('single', 'multi', 'blackhole', 'unreachable', 'devonly'),
    fc.array(nhArb, { minLength: 1, maxLength: 3 }),
    fc.option(fc.constantFrom(1480, 1440)),
  )
  .map(([n, len, kind, nhs, mtu]) => {
    const a = (0x0a000000 + n * 256) >>> 0;
    const addr = len === 32 ? a + 1 : a - (a % 2 ** (32 - len));
    const text = canonicalV4Text(addr * 64 + len);
    const o: Record<string, unknown> = {};
    if (kind === 'blackhole' || kind === 'unreachable') o.type = kind;
    o.dst = text;
    if (kind === 'single') {
      o.gateway = nhs[0].gateway;
      o.dev = nhs[0].dev;
    }
    if (kind === 'devonly') o.dev = 'eth0';
    o.protocol = 'bgp';
    if (kind !== 'blackhole' && kind !== 'unreachable') o.scope = 'global';
    if (mtu !== null) o.metrics = [{ mtu }];
    o.flags = kind === 'single' && nhs[0].onlink ? ['onlink'] : [];
    if (kind === 'multi') {
      o.nexthops = nhs.map((nh) => ({
        gateway: nh.gateway,
        dev: nh.dev,
        weight: nh.weight,
        flags: nh.onlink ? ['onlink'] : [],
      }));
    }
    return o;
  });

function check(text: string, shapes: ShapeTable, cache: ShapeTextCache): boolean {
  const out = new RouteRead();
  if (scanRoutes(text, 4, shapes, cache, out) !== null) return false;
  const list = JSON.parse(text) as JsonRoute[];
  if (out.v4Count !== list.length) return false;
  for (let k = 0; k < list.length; k++) {
    const j = list[k];
    if (canonicalV4Text(out.v4Keys[k]) !== canonicalPrefix(j.dst ?? '', 4)) return false;
    const want = parseJsonRoute(j, 4);
    const got = out.v4Shapes[k];
    if (want === null) {
      if (got !== SHAPE_FOREIGN) return false;
    } else if (shapes.key(got) !== routeKey(want)) return false;
  }
  return true;
}

t.test('random tables: the scanner agrees with JSON.parse + parseJsonRoute', async (t) => {
  fc.assert(
    fc.property(fc.array(routeArb, { maxLength: 60 }), fc.boolean(), (routes, pretty) => {
      const text = pretty ? JSON.stringify(routes, null, 4) : JSON.stringify(routes);
      const shapes = new ShapeTable();
      const cache = new ShapeTextCache();
      // Twice: once with a cold shape cache, once warm.
      return check(text, shapes, cache) && check(text, shapes, cache);
    }),
    { numRuns: 400 },
  );
  t.pass('agree');
});

/** Scans `text` in the given pieces; the keys and shape keys read, or the error. */
function scanPieces(
  text: string,
  cuts: number[],
  shapes: ShapeTable,
  cache: ShapeTextCache,
): string[] | string {
  const out = new RouteRead();
  const scanner = new RouteScanner(4, shapes, cache, out);
  let from = 0;
  for (const at of [...cuts, text.length]) {
    scanner.push(text.slice(from, at));
    from = at;
  }
  const error = scanner.end();
  if (error !== null) return error;
  const rows: string[] = [];
  for (let k = 0; k < out.v4Count; k++) {
    rows.push(`${canonicalV4Text(out.v4Keys[k])} ${shapes.key(out.v4Shapes[k])}`);
  }
  return rows;
}

t.test('output read in chunks, split anywhere, reads as the whole text does', async (t) => {
  fc.assert(
    fc.property(
      fc.array(routeArb, { maxLength: 40 }),
      fc.boolean(),
      fc.array(fc.nat(), { maxLength: 12 }),
      (routes, pretty, raw) => {
        const text = pretty ? JSON.stringify(routes, null, 2) : JSON.stringify(routes);
        const cuts = [...new Set(raw.map((r) => r % (text.length + 1)))].sort((a, b) => a - b);
        const shapes = new ShapeTable();
        const whole = scanPieces(text, [], shapes, new ShapeTextCache());
        // A warm cache as well as a cold one: the fast path meets cut texts too.
        const warm = new ShapeTextCache();
        scanPieces(text, [], shapes, warm);
        const a = scanPieces(text, cuts, shapes, new ShapeTextCache());
        const b = scanPieces(text, cuts, shapes, warm);
        return (
          Array.isArray(whole) &&
          JSON.stringify(a) === JSON.stringify(whole) &&
          JSON.stringify(b) === JSON.stringify(whole)
        );
      },
    ),
    { numRuns: 400 },
  );
  // Every single split point of a small table, cold and warm.
  const routes = fc.sample(routeArb, { numRuns: 6, seed: 7 });
  const text = JSON.stringify(routes);
  const shapes = new ShapeTable();
  const warm = new ShapeTextCache();
  const whole = scanPieces(text, [], shapes, warm);
  let same = 0;
  for (let at = 0; at <= text.length; at++) {
    const cold = scanPieces(text, [at], shapes, new ShapeTextCache());
    const hot = scanPieces(text, [at], shapes, warm);
    if (
      JSON.stringify(cold) === JSON.stringify(whole) &&
      JSON.stringify(hot) === JSON.stringify(whole)
    )
      same++;
  }
  t.equal(same, text.length + 1, `all ${text.length + 1} split points agree`);
  // Truncated output is an error, not a shorter table.
  t.equal(scanPieces(text.slice(0, -1), [5], shapes, warm), 'truncated JSON');
  t.match(scanPieces(`${text} x`, [3], shapes, warm), /data after the array/);
});

t.test('the same shape text with other dst values hits the cache and stays right', async (t) => {
  const shapes = new ShapeTable();
  const cache = new ShapeTextCache();
  const row = (dst: string, via: string) =>
    `{"dst":"${dst}","gateway":"${via}","dev":"eth0","protocol":"bgp","scope":"global","flags":[]}`;
  const text = `[${row('10.1.0.0/24', '192.168.30.72')},${row('10.1.1.0/24', '192.168.30.72')},${row('10.1.2.0/24', '192.168.30.73')},${row('10.1.3.0/24', '192.168.30.72')}]`;
  const out = new RouteRead();
  t.equal(scanRoutes(text, 4, shapes, cache, out), null);
  t.equal(out.v4Count, 4);
  t.equal(out.v4Shapes[0], out.v4Shapes[1]);
  t.equal(out.v4Shapes[0], out.v4Shapes[3]);
  t.not(out.v4Shapes[0], out.v4Shapes[2], 'another gateway is another shape');
  t.equal(shapes.size, 2, 'two shapes interned');
  t.match(shapes.key(out.v4Shapes[2]), /192\.168\.30\.73/);
});

t.test('IPv6 and default routes', async (t) => {
  const shapes = new ShapeTable();
  const cache = new ShapeTextCache();
  const out = new RouteRead();
  const v6 = JSON.stringify([
    { dst: 'fd00:10:0:0::/64', gateway: 'fd00:30::72', dev: 'eth0', protocol: 'bgp', flags: [] },
    { type: 'blackhole', dst: 'fd00:20::/64', protocol: 'bgp', flags: [] },
  ]);
  t.equal(scanRoutes(v6, 6, shapes, cache, out), null);
  t.same(out.v6Texts, ['fd00:10::/64', 'fd00:20::/64'], 'canonical text');
  t.equal(shapes.route(out.v6Shapes[1])?.type, 'blackhole');
  const v4 = JSON.stringify([{ dst: 'default', gateway: '10.0.0.1', dev: 'eth0', flags: [] }]);
  t.equal(scanRoutes(v4, 4, shapes, cache, out), null);
  t.equal(out.v4Keys[0], 0, 'default is 0.0.0.0/0');
});

t.test('empty and malformed output', async (t) => {
  const shapes = new ShapeTable();
  const cache = new ShapeTextCache();
  t.equal(scanRoutes('', 4, shapes, cache, new RouteRead()), null, 'empty is an empty table');
  t.equal(scanRoutes(' [ ] \n', 4, shapes, cache, new RouteRead()), null);
  for (const bad of [
    '{}',
    '[{"dst":"10.0.0.0/8"',
    '[1,2]',
    '[{"dst":"10.0.0.0/8"} {}]',
    '[{"dst":"x]',
  ]) {
    t.type(scanRoutes(bad, 4, shapes, cache, new RouteRead()), 'string', `rejects ${bad}`);
  }
  // Strings with escapes and brackets inside do not confuse the object boundaries.
  const odd = JSON.stringify([
    { dst: '10.9.0.0/16', dev: 'we"ird]}', gateway: '10.0.0.1', flags: [] },
    { dst: '10.8.0.0/16', dev: 'eth0', gateway: '10.0.0.1', flags: [] },
  ]);
  const out = new RouteRead();
  t.equal(scanRoutes(odd, 4, shapes, cache, out), null);
  t.equal(out.v4Count, 2);
  t.equal(shapes.route(out.v4Shapes[0])?.nexthops[0].dev, 'we"ird]}');
});
