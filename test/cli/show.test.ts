// Tests for the `show kernel|node|config` wiring (src/cli/commands/show.ts): the CLI, spawned
// through test/cli/fixtures/run-show.ts, asks a control server on a temporary socket that
// answers with hand-built replies. --json prints the reply unchanged; else the human formats.

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import t from 'tap';
import { parse } from 'yaml';
import { ControlServer } from '../../src/control/server.js';
import type { KernelStatus } from '../../src/kernel/types.js';

const run = promisify(execFile);
const ENTRY = join(import.meta.dirname, 'fixtures', 'run-show.ts');

const KERNEL: KernelStatus = {
  table: '254',
  protocol: 'bgp',
  converged: true,
  routes: [
    {
      prefix: '10.244.5.192/26',
      installed: false,
      shape: 'direct',
      interfaces: ['eth0'],
      nexthops: [{ via: '192.168.30.72', dev: 'eth0', shape: 'direct' }],
      skipped: [],
      reason: 'pending',
      lastError: null,
      lastErrorAt: null,
      origin: 'remote',
    },
  ],
  counts: { installed: 0, notInstalled: 1, byShape: { direct: 1, ipip: 0, blackhole: 0, ecmp: 0 } },
  tunnel: {
    wanted: false,
    available: true,
    name: 'tunl0',
    up: false,
    mtu: 1480,
    address: null,
    pmtudisc: true,
    error: null,
  },
  lastReconcileAt: null,
  reconciles: 0,
  reconcileErrors: 0,
  driftRepaired: 0,
};

const NODE = {
  name: 'node-b',
  nameSource: 'config',
  asn: 65001,
  routerId: '10.0.0.2',
  routerIdSource: 'config',
  ipv4: null,
  ipv6: null,
  decisions: [],
  kubernetes: null,
  startedAt: Date.now(),
  converged: false,
};

const CONFIG = {
  node: { name: 'node-b', asn: 65001 },
  peers: [{ address: '10.0.0.1', asn: 65000 }],
};

t.test('show kernel, node, config: human and --json', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pbcli-show-'));
  const socket = join(dir, 'podbgp.sock');
  const server = new ControlServer(
    socket,
    {
      'show-kernel': () => KERNEL,
      'show-node': () => NODE,
      'show-config': () => CONFIG,
    },
    pino({ level: 'silent' }),
  );
  await server.listen();
  t.teardown(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const cli = async (...args: string[]) =>
    (
      await run(process.execPath, ['--import', 'tsx', ENTRY, 'show', ...args, '--socket', socket], {
        timeout: 60_000,
      })
    ).stdout;

  t.equal(await cli('kernel', '--json'), JSON.stringify(KERNEL, null, 2) + '\n', 'kernel --json');
  t.equal(await cli('node', '--json'), JSON.stringify(NODE, null, 2) + '\n', 'node --json');
  t.equal(await cli('config', '--json'), JSON.stringify(CONFIG, null, 2) + '\n', 'config --json');

  const k = await cli('kernel');
  t.match(k, /^Kernel table 254, protocol bgp, converged yes$/m);
  t.match(k, /^10\.244\.5\.192\/26\s+remote\s+direct\s+192\.168\.30\.72 eth0\s+no\s+pending$/m);
  const n = await cli('node');
  t.match(n, /^Node node-b \(name from the config\)$/m);
  t.match(n, /AS:\s+65001$/m);
  t.match(n, /IPv4 address:\s+-$/m);
  t.same(parse(await cli('config')), CONFIG, 'config as YAML');
});
