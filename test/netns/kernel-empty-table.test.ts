// A routing table nobody has used yet does not exist in the kernel; KernelSync must treat it
// as empty and install into it, not refuse to start.

import { spawnSync } from 'node:child_process';
import t from 'tap';
import pino from 'pino';
import { IpCommandRunner, KernelSync } from '../../src/kernel/index.js';

const NS = 'pbk-empty';
const sh = (...args: string[]) => spawnSync('ip', args, { encoding: 'utf8' });
const skip = process.getuid?.() === 0 ? false : 'needs root for network namespaces';

t.test('an empty, never-used table is read as empty and filled', { skip }, async (t) => {
  sh('netns', 'del', NS);
  t.equal(sh('netns', 'add', NS).status, 0);
  t.teardown(() => void sh('netns', 'del', NS));
  sh('-n', NS, 'link', 'set', 'lo', 'up');
  const before = sh('-n', NS, 'route', 'show', 'table', '200');
  t.match(before.stderr, /does not exist/, 'table 200 does not exist yet');
  const sync = new KernelSync({
    runner: new IpCommandRunner({ netns: NS }),
    logger: pino({ level: 'silent' }),
    table: 200,
    monitor: false,
    resyncIntervalMs: 0,
  });
  await sync.start();
  sync.setOwnBlocks(['10.248.1.0/26']);
  sync.markConverged();
  await new Promise((r) => setTimeout(r, 100));
  await sync.idle();
  const after = JSON.parse(sh('-n', NS, '-json', 'route', 'show', 'table', '200').stdout || '[]');
  t.same(
    after.map((r: { dst: string; type: string }) => [r.dst, r.type]),
    [['10.248.1.0/26', 'blackhole']],
  );
  await sync.stop();
});
