// KernelClient with its real worker thread (src/kernel/worker.ts loaded through tsx, and an
// esbuild bundle of it loaded as plain JavaScript) on kernel tables inside namespaces this file
// creates (pbkw-*): routes installed, kept on stop and adopted by the next run, a crash reported.
import t, { type Test } from 'tap';
import pino from 'pino';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  KernelClient,
  spawnKernelWorker,
  v4PrefixKey,
  type KernelChannel,
  type KernelClientOptions,
} from '../../src/kernel/index.js';
import { makeSegmentsNs, routes } from './kernel-ns.js';

/** A namespace with segments pbkw-a (192.168.30.71/24, fd00:30::71/64) and pbkw-b. */
const makeNs = (t: Test): string => makeSegmentsNs(t, 'pbkw');

const isRoot = process.getuid?.() === 0;
const skip = isRoot ? false : 'needs root (CAP_NET_ADMIN) to create network namespaces';
const ROOT = path.resolve(import.meta.dirname, '../..');

function client(t: Test, ns: string, opts: Partial<KernelClientOptions> = {}): KernelClient {
  const c = new KernelClient({
    logger: pino({ level: 'silent' }),
    logLevel: 'silent',
    netns: ns,
    pools: [{ cidr: '10.244.0.0/16', ipipMode: 'Never' }],
    coalesceMs: 5,
    ...opts,
  });
  t.teardown(() => c.stop());
  return c;
}

const N = 2000;
const key = (i: number): number => v4PrefixKey((0x0af40000 + i * 64) >>> 0, 26);

t.test('the worker thread installs, keeps on stop, and a new one adopts', { skip }, async (t) => {
  const ns = makeNs(t);
  const a = client(t, ns);
  const fatal: Error[] = [];
  a.on('fatal', (err) => fatal.push(err));
  t.same(await a.start(), { adopted: 0 });
  t.equal(a.canReach('192.168.30.72'), true, 'the segment came with the start snapshot');
  t.match(a.unreachableReason('10.1.2.3'), /ipipMode is Never/);
  const nh = ['192.168.30.72'];
  for (let i = 0; i < N; i++) a.update(key(i), nh);
  a.update('fd00:10::/64', ['fd00:30::72']);
  a.setOwnBlocks(['10.250.0.0/26']);
  a.markConverged();
  await a.idle();
  const v4 = routes(ns);
  t.equal(v4.length, N + 1, 'every remote prefix and the own block');
  t.match(
    v4.find((r) => r.dst === '10.244.0.64/26'),
    { gateway: '192.168.30.72', dev: 'pbkw-a' },
    'a direct route on the segment',
  );
  t.equal(v4.find((r) => r.dst === '10.250.0.0/26')?.type, 'blackhole');
  t.equal(routes(ns, '-6').find((r) => r.dst === 'fd00:10::/64')?.dev, 'pbkw-a');
  const [s0, s1] = await a.routeStatuses([key(1), '10.250.0.0/26']);
  t.equal(s0?.installed, true);
  t.equal(s1?.shape, 'blackhole');
  await a.stop();
  t.equal(routes(ns).length, N + 1, 'stop leaves the routes in place');
  t.same(fatal, [], 'an asked-for stop is no failure');

  const b = client(t, ns);
  t.same(await b.start(), { adopted: N + 2 }, 'the next run adopts every tagged route (v4 and v6)');
  await b.stop({ flush: true });
  t.equal(routes(ns).length, 0, 'flush on stop removes them');
  t.equal(routes(ns, '-6').length, 0);
});

t.test('a crash in the worker is reported with its cause; routes stay', { skip }, async (t) => {
  const ns = makeNs(t);
  let channel: KernelChannel | null = null;
  const c = client(t, ns, {
    connect: (init) => (channel = spawnKernelWorker(init)),
  });
  await c.start();
  c.update(key(1), ['192.168.30.72']);
  c.markConverged();
  await c.idle();
  const died = new Promise<Error>((resolve) => c.on('fatal', resolve));
  // A batch naming a next-hop list that was never defined: the worker throws and dies.
  const bad = {
    t: 'updates' as const,
    reset: false,
    defs: [],
    keys: Float64Array.of(key(2)),
    lists: Int32Array.of(99),
    side: [],
  };
  (channel as KernelChannel | null)?.post(bad, []);
  const err = await died;
  t.match(err.message, /undefined next-hop list 99/, 'the cause is named');
  await t.rejects(c.status(), /undefined next-hop list 99/, 'requests fail from then on');
  t.equal(routes(ns).length, 1, 'the installed route stays');
});

/** esbuild comes with tsx; the bundle test needs it. */
const esbuild = await import('esbuild').catch(() => null);

t.test(
  'a bundled worker (plain JavaScript, no tsx) loads and serves',
  { skip: skip || (esbuild === null ? 'esbuild (installed with tsx) is missing' : false) },
  async (t) => {
    if (esbuild === null) return;
    const dir = mkdtempSync(path.join(tmpdir(), 'pbkw-bundle-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    await esbuild.build({
      entryPoints: { worker: path.join(ROOT, 'src/kernel/worker.ts') },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outdir: dir,
      outExtension: { '.js': '.mjs' },
      logLevel: 'error',
    });
    const ns = makeNs(t);
    const entry = pathToFileURL(path.join(dir, 'worker.mjs'));
    const c = client(t, ns, { connect: (init) => spawnKernelWorker(init, { entry }) });
    await c.start();
    c.update(key(3), ['192.168.30.72']);
    c.markConverged();
    await c.idle();
    t.same(
      routes(ns).map((r) => r.dst),
      ['10.244.0.192/26'],
    );
  },
);
