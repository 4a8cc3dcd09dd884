// KernelHost holds update batches that stream in and applies them when they pause: a lone
// batch at once, a burst after `quietMs` of quiet or `maxHoldMs` at most, always in arrival
// order and always before any later command or request. Time is a fake clock.
import t from 'tap';
import { KernelHost, PortLogger, type HostPort } from '../../src/kernel/host.js';
import type { KernelSync } from '../../src/kernel/sync.js';
import { UpdateEncoder } from '../../src/kernel/update-batch.js';
import { LEVEL_VALUES, type ToWorker, type UpdateBatch } from '../../src/kernel/worker-protocol.js';
import { FakeClock } from './fake-ip.js';

/** What the host did to the sync, in order. */
type Call = [string, unknown];

function setup(opts: { quietMs?: number; maxHoldMs?: number } = {}) {
  const calls: Call[] = [];
  const sync = {
    on: () => () => undefined,
    update: (prefix: string | number, nexthops: readonly string[] | null) =>
      calls.push(['update', [prefix, nexthops?.join(' ') ?? null]]),
    setOwnBlocks: (p: readonly string[]) => calls.push(['own', p.join()]),
    markConverged: () => calls.push(['converged', null]),
    idle: async () => {
      calls.push(['idle', null]);
    },
  } as unknown as KernelSync;
  const port: HostPort = { postMessage: () => undefined, on: () => undefined };
  const clock = new FakeClock();
  const host = new KernelHost(sync, port, { ...opts, clock });
  const encoder = new UpdateEncoder();
  let n = 0;
  /** A batch of `count` updates with increasing keys. */
  const batch = (count = 1): ToWorker => {
    for (let i = 0; i < count; i++) encoder.push(++n * 64 + 32, ['192.0.2.1']);
    const [b] = encoder.take();
    return { t: 'updates', ...(b as UpdateBatch) };
  };
  const updated = (): number[] =>
    calls.filter((c) => c[0] === 'update').map((c) => (c[1] as [number])[0] / 64 - 0.5);
  return { host, clock, calls, batch, updated };
}

t.test('a lone batch of fewer than burstSize updates is applied at once', async (t) => {
  const { host, clock, batch, updated } = setup();
  host.handle(batch(3));
  t.same(updated(), [1, 2, 3]);
  await clock.advance(1000);
  host.handle(batch());
  t.same(updated(), [1, 2, 3, 4], 'and so is the next after a pause');
  t.equal(host.heldBatches, 0);
});

t.test('a burst is held until the batches stop for quietMs, then applied in order', async (t) => {
  const { host, clock, batch, updated } = setup({ quietMs: 50 });
  host.handle(batch()); // applied: nothing came before it
  for (let i = 0; i < 5; i++) {
    await clock.advance(10);
    host.handle(batch());
  }
  t.same(updated(), [1], 'the rest of the burst is held');
  t.equal(host.heldBatches, 5);
  await clock.advance(49);
  t.same(updated(), [1], 'still held 49 ms after the last batch');
  await clock.advance(1);
  t.same(updated(), [1, 2, 3, 4, 5, 6], 'applied in arrival order after 50 ms of quiet');
  t.equal(host.heldBatches, 0);
});

t.test('a stream that never pauses is applied at least every maxHoldMs', async (t) => {
  const { host, clock, batch, updated } = setup({ quietMs: 50, maxHoldMs: 200 });
  host.handle(batch());
  let firstLate = -1;
  for (let ms = 10; ms <= 1000; ms += 10) {
    await clock.advance(10);
    host.handle(batch());
    if (firstLate < 0 && updated().length > 1) firstLate = ms;
  }
  t.ok(firstLate > 0 && firstLate <= 210, `the first held batch applied after ${firstLate} ms`);
  // 101 batches in 1 s: at most the last 200 ms of them (21) may still be held.
  t.ok(updated().length >= 80, `${updated().length} of 101 applied while the stream runs`);
  await clock.advance(50);
  t.equal(updated().length, 101, 'the rest once it stops');
  t.same(
    updated(),
    [...updated()].sort((a, b) => a - b),
    'in order',
  );
});

t.test('commands and requests see every update posted before them', async (t) => {
  const { host, clock, calls, batch } = setup({ quietMs: 50 });
  host.handle(batch());
  await clock.advance(5);
  host.handle(batch(2));
  host.handle({ t: 'own', prefixes: ['10.244.1.0/26'] });
  await clock.advance(5);
  host.handle(batch());
  host.handle({ t: 'request', id: 1, req: { op: 'idle' } });
  host.handle({ t: 'converged' });
  t.same(
    calls.map((c) => c[0]),
    ['update', 'update', 'update', 'own', 'update', 'idle', 'converged'],
  );
  t.equal(host.heldBatches, 0);
  t.equal(clock.pending(), 0, 'no timer left behind');
});

t.test('one large batch is a burst by itself: held for quietMs, then applied', async (t) => {
  const { host, clock, batch, updated } = setup({ quietMs: 200 });
  host.handle(batch(1024));
  t.same(updated(), [], 'held');
  await clock.advance(199);
  t.same(updated(), []);
  await clock.advance(1);
  t.equal(updated().length, 1024, 'applied 200 ms later');
  await clock.advance(1000);
  host.handle(batch(1023));
  t.equal(updated().length, 2047, 'a smaller one after a pause goes at once');
});

t.test('a log-level message changes what the worker logger and its children post', async (t) => {
  const posted: string[] = [];
  const root = new PortLogger((m) => {
    if (m.t === 'log') posted.push(`${m.level}:${m.msg}`);
  }, LEVEL_VALUES.info);
  const child = root.child({ component: 'sync' });
  const port: HostPort = { postMessage: () => undefined, on: () => undefined };
  const sync = { on: () => () => undefined } as unknown as KernelSync;
  const host = new KernelHost(sync, port, { setLogLevel: (level) => root.setLevel(level) });
  child.debug({}, 'before');
  child.info({}, 'info before');
  host.handle({ t: 'log-level', level: 'debug' });
  child.debug({}, 'after');
  host.handle({ t: 'log-level', level: 'warn' });
  child.info({}, 'info after warn');
  child.warn({}, 'warn after warn');
  host.handle({ t: 'log-level', level: 'no-such-level' });
  child.info({}, 'info after an unknown name');
  t.same(posted, ['info:info before', 'debug:after', 'warn:warn after warn']);
});

t.test('a log-level message leaves a held burst held', async (t) => {
  const { host, clock, batch, updated } = setup({ quietMs: 50 });
  host.handle(batch());
  await clock.advance(10);
  host.handle(batch());
  t.equal(host.heldBatches, 1, 'the second batch of a burst is held');
  host.handle({ t: 'log-level', level: 'debug' });
  t.equal(host.heldBatches, 1, 'still held after the log-level message');
  await clock.advance(60);
  t.same(updated(), [1, 2], 'and applied when the burst is over');
});
