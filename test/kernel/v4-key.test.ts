// IPv4 prefix keys (address * 64 + length): the exported helpers and the allocation-free parser
// agree with the slow prefix parser on random and hand-picked text, and the ASCII writer prints
// what iproute2 prints (no /32).
import fc from 'fast-check';
import t from 'tap';
import { parsePrefix } from '../../src/kernel/addr.js';
import { formatV4PrefixKey, v4PrefixKey } from '../../src/kernel/index.js';
import {
  canonicalV4Text,
  isV4PrefixKey,
  parseV4Key,
  v4Contains,
  writeV4Text,
} from '../../src/kernel/v4-key.js';

/** A random network address of a random length (host bits cleared by the test itself). */
const prefixArb = fc
  .tuple(fc.nat({ max: 0xffffffff }), fc.integer({ min: 0, max: 32 }))
  .map(([a, len]) => {
    const host = 2 ** (32 - len);
    return { addr: a - (a % host), len };
  });

const dotted = (a: number): string =>
  [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join('.');

t.test('the key is address * 64 + length, as the brief defines it', async (t) => {
  t.equal(v4PrefixKey(0x0af405c0, 26), 0x0af405c0 * 64 + 26);
  t.equal(formatV4PrefixKey(v4PrefixKey(0x0af405c0, 26)), '10.244.5.192/26');
  t.equal(formatV4PrefixKey(v4PrefixKey(0xc0a8011e, 32)), '192.168.1.30/32', '/32 printed');
  t.equal(formatV4PrefixKey(v4PrefixKey(0, 0)), '0.0.0.0/0');
  t.equal(formatV4PrefixKey(v4PrefixKey(0xffffffff, 32)), '255.255.255.255/32');
  t.equal(canonicalV4Text(v4PrefixKey(0xc0a8011e, 32)), '192.168.1.30', 'iproute2 form: no /32');
  t.throws(() => v4PrefixKey(-1, 24));
  t.throws(() => v4PrefixKey(2 ** 32, 24));
  t.throws(() => v4PrefixKey(0, 33));
  t.throws(() => v4PrefixKey(1.5, 24));
});

t.test('isV4PrefixKey rejects host bits, bad lengths and non-integers', async (t) => {
  t.ok(isV4PrefixKey(0x0af40500 * 64 + 24));
  t.notOk(isV4PrefixKey(0x0af40501 * 64 + 24), 'host bits set');
  t.notOk(isV4PrefixKey(0x0af40500 * 64 + 33), 'length 33');
  t.notOk(isV4PrefixKey(-64), 'negative');
  t.notOk(isV4PrefixKey(2 ** 32 * 64), 'address past 32 bits');
  t.notOk(isV4PrefixKey(64.5));
});

t.test('random prefixes: format, parse and the slow parser agree', async (t) => {
  fc.assert(
    fc.property(prefixArb, ({ addr, len }) => {
      const key = v4PrefixKey(addr, len);
      const text = formatV4PrefixKey(key);
      if (text !== `${dotted(addr)}/${len}`) return false;
      if (parseV4Key(text) !== key) return false;
      if (!isV4PrefixKey(key)) return false;
      const slow = parsePrefix(text, 4);
      if (!slow.ok || Number(slow.prefix.value) !== addr || slow.prefix.len !== len) return false;
      // The ASCII writer prints the iproute2 form.
      const buf = new Uint8Array(32);
      const end = writeV4Text(buf, 0, key);
      return Buffer.from(buf.subarray(0, end)).toString('latin1') === canonicalV4Text(key);
    }),
    { numRuns: 2000 },
  );
  t.pass('agree');
});

t.test(
  'random text: parseV4Key accepts exactly what the slow parser accepts as IPv4',
  async (t) => {
    const part = fc.oneof(
      fc.integer({ min: 0, max: 300 }).map(String),
      fc.constantFrom('', '00', '010', 'a', '-1', '1e2'),
    );
    const textArb = fc.oneof(
      fc
        .tuple(part, part, part, part, fc.option(fc.oneof(part, fc.constantFrom('33', '024', ''))))
        .map(([a, b, c, d, l]) => `${a}.${b}.${c}.${d}${l === null ? '' : `/${l}`}`),
      fc.string({ maxLength: 20 }),
    );
    fc.assert(
      fc.property(textArb, (text) => {
        const key = parseV4Key(text);
        const slow = parsePrefix(text, 4);
        const slowOk = slow.ok && slow.prefix.family === 4 && text !== 'default';
        if (!slowOk) return key === -1;
        return key === Number(slow.prefix.value) * 64 + slow.prefix.len;
      }),
      { numRuns: 5000 },
    );
    t.equal(parseV4Key('10.0.0.1'), 0x0a000001 * 64 + 32, 'a bare address is a /32');
    t.equal(parseV4Key('x10.0.0.0/8', 1), 0x0a000000 * 64 + 8, 'parses a sub-range');
    t.equal(parseV4Key('10.0.0.1/24'), -1, 'host bits set');
  },
);

t.test('v4Contains', async (t) => {
  t.ok(v4Contains(0x0af40000, 16, 0x0af40500));
  t.notOk(v4Contains(0x0af40000, 16, 0x0af50000));
  t.ok(v4Contains(0, 0, 0xffffffff), '/0 holds everything');
  t.ok(v4Contains(0xffffffff, 32, 0xffffffff));
});
