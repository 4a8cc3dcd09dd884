// Tests for `podbgp decode` (src/cli/commands/decode.ts): the CLI spawned through a minimal
// yargs entry (test/cli/run-cli.ts) with hex, stdin, raw bytes and files; the JSON Lines shape
// of every message type; the session flags; error continuation; exit 1 on lost framing.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import {
  contextFromArgs,
  decodeBytes,
  DecodeInputError,
  HexReader,
} from '../../src/cli/commands/decode.js';
import { hex, MARKER_HEX as M, message, textHex } from '../protocol/hand-bytes.js';

const ENTRY = join(import.meta.dirname, 'run-cli.ts');

interface Run {
  status: number | null;
  lines: Record<string, unknown>[];
  stderr: string;
}

function cli(args: string[], input?: string | Buffer): Run {
  const r = spawnSync(process.execPath, ['--import', 'tsx', ENTRY, 'decode', ...args], {
    input,
    timeout: 60_000,
  });
  const out = r.stdout.toString('utf8').trim();
  return {
    status: r.status,
    lines: out === '' ? [] : out.split('\n').map((l) => JSON.parse(l) as Record<string, unknown>),
    stderr: r.stderr.toString('utf8'),
  };
}

// Hand-built messages (RFC 4271 §4).
// OPEN: version 4, My AS 23456 (AS_TRANS), hold 90, id 10.0.0.1; capabilities multiprotocol
// IPv4 unicast, route refresh, 4-octet AS 4200000001, graceful restart (restart time 120,
// IPv4 unicast forwarding), ADD-PATH IPv4 unicast both, fqdn "node1"/"": 6+2+6+8+6+9 = 37
// octets of capabilities, 39 (0x27) of parameters, 19 + 10 + 39 = 68 (0x44) in all.
const OPEN_HEX = `${M} 0044 01 04 5ba0 005a 0a000001 27 02 25
  01 04 0001 00 01  02 00  41 04 fa56ea01  40 06 0078 0001 01 80  45 04 0001 01 03
  49 07 05 ${textHex('node1')} 00`;
const KEEPALIVE_HEX = `${M} 0013 04`;
const NOTIFICATION_HEX = `${M} 001a 03 06 02 04 ${textHex('bye!')}`;
const REFRESH_HEX = `${M} 0017 05 0002 01 01`;
const EOR_HEX = `${M} 0017 02 0000 0000`;
// UPDATE: ORIGIN IGP, AS_PATH SEQUENCE [65001], NEXT_HOP 192.0.2.1, LOCAL_PREF 100,
// NLRI 10.0.1.0/24. Attributes 4 + 9 + 7 + 7 = 27 (0x1b); total 19 + 4 + 27 + 4 = 54.
const UPDATE_HEX = `${M} 0036 02 0000 001b 400101 00 400206 0201 0000fde9 400304 c0000201
  400504 00000064 18 0a0001`;

t.test('every message type, as JSON Lines, from --hex', async (t) => {
  const all = [OPEN_HEX, KEEPALIVE_HEX, UPDATE_HEX, NOTIFICATION_HEX, REFRESH_HEX, EOR_HEX];
  const r = cli(['--hex', all.join(' ')]);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.lines.length, 6);
  const [open, keepalive, update, notification, refresh, eor] = r.lines;
  t.match(open, {
    type: 'open',
    version: 4,
    myAs: 23456,
    asn: 4200000001,
    holdTime: 90,
    routerId: '10.0.0.1',
  });
  t.same(open.capabilities, [
    { code: 1, name: 'multiprotocol', afi: 1, safi: 1, family: 'ipv4-unicast' },
    { code: 2, name: 'route-refresh' },
    { code: 65, name: 'four-octet-as', asn: 4200000001 },
    {
      code: 64,
      name: 'graceful-restart',
      restarting: false,
      notification: false,
      restartTime: 120,
      families: [{ afi: 1, safi: 1, family: 'ipv4-unicast', forwarding: true }],
    },
    {
      code: 69,
      name: 'add-path',
      families: [{ afi: 1, safi: 1, family: 'ipv4-unicast', mode: 'both' }],
    },
    { code: 73, name: 'fqdn', hostname: 'node1', domain: '' },
  ]);
  t.same(keepalive, { type: 'keepalive' });
  t.match(update, {
    type: 'update',
    withdrawn: [],
    nlri: ['10.0.1.0/24'],
    attributes: {
      origin: 'igp',
      asPath: [{ type: 'sequence', asns: [65001] }],
      nextHop: '192.0.2.1',
      localPref: 100,
    },
  });
  t.same(notification, {
    type: 'notification',
    code: 6,
    subcode: 2,
    name: 'Cease / Administrative Shutdown',
    data: `04${textHex('bye!')}`,
    message: 'bye!',
  });
  t.same(refresh, {
    type: 'route-refresh',
    afi: 2,
    safi: 1,
    family: 'ipv6-unicast',
    subtype: 1,
    subtypeName: 'borr',
  });
  t.match(eor, { type: 'update', endOfRib: 'ipv4-unicast' });
});

t.test('hex on stdin with whitespace and line breaks', async (t) => {
  const text = `${KEEPALIVE_HEX}\n\n  ${REFRESH_HEX.replace(/ /g, '\n')}\r\n\t${KEEPALIVE_HEX}\n`;
  const r = cli([], text);
  t.equal(r.status, 0, r.stderr);
  t.same(
    r.lines.map((l) => l.type),
    ['keepalive', 'route-refresh', 'keepalive'],
  );
});

t.test('--raw from stdin and from --file; --file without --raw is hex text', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'podbgp-decode-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bytes = Buffer.concat([hex(KEEPALIVE_HEX), hex(NOTIFICATION_HEX), hex(EOR_HEX)]);
  const types = ['keepalive', 'notification', 'update'];
  const fromStdin = cli(['--raw'], bytes);
  t.equal(fromStdin.status, 0, fromStdin.stderr);
  t.same(
    fromStdin.lines.map((l) => l.type),
    types,
  );
  const rawFile = join(dir, 'capture.bin');
  writeFileSync(rawFile, bytes);
  const fromFile = cli(['--raw', '--file', rawFile]);
  t.same(
    fromFile.lines.map((l) => l.type),
    types,
  );
  const hexFile = join(dir, 'capture.hex');
  writeFileSync(hexFile, `${KEEPALIVE_HEX}\n${NOTIFICATION_HEX}\n${EOR_HEX}\n`);
  const fromHexFile = cli(['--file', hexFile]);
  t.equal(fromHexFile.status, 0, fromHexFile.stderr);
  t.same(
    fromHexFile.lines.map((l) => l.type),
    types,
  );
});

t.test(
  'a malformed message prints what was decoded plus error, then decoding continues',
  async (t) => {
    // OPEN with hold time 2 (RFC 4271 §6.2: 2/6), then a BoRR of 24 octets (RFC 7313 §5: 7/1),
    // then an unknown type 9 (RFC 4271 §6.1: 1/3), then a KEEPALIVE.
    const badOpen = `${M} 001d 01 04 fde9 0002 0a000001 00`;
    const badRefresh = `${M} 0018 05 0001 01 01 00`;
    const badType = `${M} 0013 09`;
    const r = cli(['--hex', [badOpen, badRefresh, badType, KEEPALIVE_HEX].join('')]);
    t.equal(r.status, 0, 'framing was kept: exit 0');
    t.equal(r.lines.length, 4);
    t.match(r.lines[0], {
      type: 'open',
      myAs: 65001,
      holdTime: 2,
      routerId: '10.0.0.1',
      error: { action: 'session-reset', code: 2, subcode: 6 },
    });
    t.type((r.lines[0].error as Record<string, unknown>).reason, 'string');
    t.match(r.lines[1], {
      type: 'route-refresh',
      afi: 1,
      safi: 1,
      subtype: 1,
      error: { action: 'session-reset', code: 7, subcode: 1 },
    });
    t.match(r.lines[2], {
      type: 'unknown',
      typeCode: 9,
      error: { action: 'session-reset', code: 1, subcode: 3 },
    });
    t.same(r.lines[3], { type: 'keepalive' });
  },
);

t.test('lost framing stops decoding with exit status 1', async (t) => {
  // A bad marker after one KEEPALIVE: 1/1; the KEEPALIVE after it is never shown.
  const badMarker = `${'fe'.repeat(16)} 0013 04`;
  const r = cli(['--hex', KEEPALIVE_HEX + badMarker + KEEPALIVE_HEX]);
  t.equal(r.status, 1);
  t.equal(r.lines.length, 2);
  t.same(r.lines[0], { type: 'keepalive' });
  t.match(r.lines[1], { offset: 19, error: { action: 'session-reset', code: 1, subcode: 1 } });
  // A length of 18: 1/2.
  const short = cli(['--hex', `${M} 0012 04`]);
  t.equal(short.status, 1);
  t.match(short.lines[0], { offset: 0, error: { code: 1, subcode: 2 } });
});

t.test('--extended-message raises the limit from 4096 to 65535', async (t) => {
  // An UPDATE of 5000 octets withdrawing 0.0.0.0/0 (one zero octet each) 4977 times.
  const withdrawn = 5000 - 23;
  const big = message(
    2,
    Buffer.concat([
      hex(withdrawn.toString(16).padStart(4, '0')),
      Buffer.alloc(withdrawn),
      hex('0000'),
    ]),
  );
  const without = cli(['--raw'], big);
  t.equal(without.status, 1);
  t.match(without.lines[0], { error: { code: 1, subcode: 2 } });
  const withExt = cli(['--raw', '--extended-message'], big);
  t.equal(withExt.status, 0, withExt.stderr);
  t.equal((withExt.lines[0].withdrawn as unknown[]).length, withdrawn);
});

t.test('--as2, --add-path and --ebgp change how an UPDATE is read', async (t) => {
  // AS_PATH SEQUENCE of two 2-octet ASNs 65001, 65002 (RFC 4271 §4.3). Attributes 4+9+7 = 20.
  const as2 = `${M} 002f 02 0000 0014 400101 00 400206 0202 fde9 fdea 400304 c0000201 18 0a0001`;
  // The same bytes read as 4-octet ASNs overrun the segment: RFC 7606 §7.2 treat-as-withdraw.
  const r = cli(['--hex', as2 + as2, '--as2']);
  t.match(r.lines[0], { attributes: { asPath: [{ type: 'sequence', asns: [65001, 65002] }] } });
  const r4 = cli(['--hex', as2]);
  t.match(r4.lines[0], { error: { action: 'treat-as-withdraw', code: 3, subcode: 11 } });
  // RFC 7911 §3: path identifier 1 before 10.0.1.0/24. Total 19 + 4 + 20 + 8 = 51.
  const addPath = `${M} 0033 02 0000 0014 400101 00 400206 0201 0000fde9 400304 c0000201 00000001 18 0a0001`;
  const ra = cli(['--hex', addPath, '--add-path', 'ipv4,ipv6']);
  t.same(ra.lines[0].nlri, [{ prefix: '10.0.1.0/24', pathId: 1 }]);
  // RFC 7606 §7.5: LOCAL_PREF from an external peer is discarded.
  const re = cli(['--hex', UPDATE_HEX, '--ebgp']);
  const attrs = re.lines[0].attributes as Record<string, unknown>;
  t.equal(attrs.localPref, undefined);
  t.equal(attrs.nextHop, '192.0.2.1');
});

t.test('input mistakes exit 2 with a message on stderr', async (t) => {
  const notHex = cli(['--hex', 'ffzz']);
  t.equal(notHex.status, 2);
  t.match(notHex.stderr, /not hex/);
  const odd = cli(['--hex', 'fff']);
  t.equal(odd.status, 2);
  t.match(odd.stderr, /odd number/);
  const family = cli(['--hex', KEEPALIVE_HEX, '--add-path', 'vpnv4']);
  t.equal(family.status, 2);
  t.match(family.stderr, /--add-path/);
});

// In-process checks of the pieces behind the command (no spawn).

t.test('contextFromArgs defaults and flags', async (t) => {
  t.same(contextFromArgs({}), {
    as4: true,
    addPath: { ipv4: false, ipv6: false },
    extendedMessage: false,
    ebgp: false,
  });
  t.same(contextFromArgs({ as2: true, 'add-path': 'ipv6', ebgp: true, 'extended-message': true }), {
    as4: false,
    addPath: { ipv4: false, ipv6: true },
    extendedMessage: true,
    ebgp: true,
  });
  t.throws(() => contextFromArgs({ 'add-path': 'ipv4,l2vpn' }), DecodeInputError);
});

t.test('HexReader carries an odd digit across pieces', async (t) => {
  const r = new HexReader();
  t.same(r.push('ff f'), hex('ff'));
  t.same(r.push('f\n0'), hex('ff'));
  t.same(r.push('1'), hex('01'));
  t.doesNotThrow(() => r.end());
  const odd = new HexReader();
  odd.push('abc');
  t.throws(() => odd.end(), DecodeInputError);
});

t.test('decodeBytes: input ending inside a message is reported, exit 1', async (t) => {
  const lines: string[] = [];
  const status = decodeBytes(
    hex(KEEPALIVE_HEX + REFRESH_HEX).subarray(0, 30),
    contextFromArgs({}),
    (l) => lines.push(l),
  );
  t.equal(status, 1);
  t.same(JSON.parse(lines[0]), { type: 'keepalive' });
  t.match(JSON.parse(lines[1]), { offset: 19, error: { action: 'truncated' } });
});
