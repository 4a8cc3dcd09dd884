// Kernel sync benchmark: installs then removes 100,000 /26 routes through KernelSync in a
// network namespace, times raw `ip -batch` doing the same in the same run, prints both and the
// ratio, then measures single-route change latency (update() -> route seen by `ip monitor`).
// Run as root: npx tsx bench/kernel.ts [routes=100000] [rounds=2]
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { IpCommandRunner, KernelSync } from '../src/kernel/index.js';

const COUNT = Number(process.argv[2] ?? 100_000);
const ROUNDS = Number(process.argv[3] ?? 2);
const NS = `pbk-bench-${process.pid}`;
const NH = '192.168.30.72';
const DEV = 'pbk-a';

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
}

function prefixAt(i: number): string {
  return `10.${i >> 10}.${(i >> 2) & 255}.${(i & 3) * 64}/26`;
}

function countRoutes(): number {
  return (JSON.parse(ip('-n', NS, '-json', 'route', 'show', 'proto', 'bgp')) as unknown[]).length;
}

function rawBatch(lines: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('ip', ['-n', NS, '-force', '-batch', '-'], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`ip -batch exited ${code}: ${err.slice(0, 500)}`));
      else resolve(performance.now() - t0);
    });
    child.stdin.end(lines);
  });
}

/** CPU seconds used so far by this process and its waited-for children (ip), from /proc. */
function cpuSeconds(): { self: number; children: number } {
  // proc(5): fields 14-17 are utime, stime, cutime, cstime in clock ticks (USER_HZ = 100).
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const tick = (i: number): number => Number(f[i - 3]) / 100;
  return { self: tick(14) + tick(15), children: tick(16) + tick(17) };
}

interface Sample {
  wall: number;
  cpu: number;
}

async function measure(fn: () => Promise<void>): Promise<Sample> {
  const c0 = cpuSeconds();
  const t0 = performance.now();
  await fn();
  const wall = performance.now() - t0;
  const c1 = cpuSeconds();
  return { wall, cpu: (c1.self - c0.self + c1.children - c0.children) * 1000 };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('bench/kernel.ts needs root (network namespaces)');
    process.exit(2);
  }
  ip('netns', 'add', NS);
  const cleanup = (): void => {
    try {
      ip('netns', 'del', NS);
    } catch {
      // already gone
    }
  };
  process.on('exit', cleanup);
  ip('-n', NS, 'link', 'set', 'lo', 'up');
  ip('-n', NS, 'link', 'add', DEV, 'type', 'veth', 'peer', 'name', 'pbk-b');
  ip('-n', NS, 'link', 'set', DEV, 'up');
  ip('-n', NS, 'link', 'set', 'pbk-b', 'up');
  ip('-n', NS, 'addr', 'add', '192.168.30.71/24', 'dev', DEV);

  const prefixes = Array.from({ length: COUNT }, (_, i) => prefixAt(i));
  const addLines =
    prefixes.map((p) => `route add ${p} via ${NH} dev ${DEV} proto bgp`).join('\n') + '\n';
  const delLines = prefixes.map((p) => `route del ${p} proto bgp`).join('\n') + '\n';
  const desired = prefixes.map((prefix) => ({ prefix, nexthops: [NH] }));
  const log = pino({ level: 'warn' });

  const raw = { install: [] as Sample[], remove: [] as Sample[] };
  const ours = { install: [] as Sample[], remove: [] as Sample[] };
  let latencies: number[] = [];

  for (let round = 0; round < ROUNDS; round++) {
    raw.install.push(await measure(() => rawBatch(addLines).then(() => undefined)));
    if (countRoutes() !== COUNT) throw new Error('raw install incomplete');
    raw.remove.push(await measure(() => rawBatch(delLines).then(() => undefined)));
    if (countRoutes() !== 0) throw new Error('raw remove incomplete');

    const sync = new KernelSync({ runner: new IpCommandRunner({ netns: NS }), logger: log });
    await sync.start();
    sync.markConverged();
    await sync.idle();
    ours.install.push(
      await measure(async () => {
        sync.setRoutes(desired);
        await sync.idle();
      }),
    );
    if (countRoutes() !== COUNT) throw new Error('podbgp install incomplete');

    if (round === ROUNDS - 1) latencies = await measureLatency(sync, 30);

    ours.remove.push(
      await measure(async () => {
        sync.setRoutes([]);
        await sync.idle();
      }),
    );
    if (countRoutes() !== 0) throw new Error('podbgp remove incomplete');
    await sync.stop();
  }

  const fmt = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  console.log(`kernel sync benchmark: ${COUNT} /26 routes, ${ROUNDS} rounds (median shown)`);
  console.log(
    `machine: ${cpus().length} CPUs, ${cpus()[0]?.model ?? '?'}, ${new Date().toISOString()}`,
  );
  for (const phase of ['install', 'remove'] as const) {
    const r = median(raw[phase].map((x) => x.wall));
    const o = median(ours[phase].map((x) => x.wall));
    const rc = median(raw[phase].map((x) => x.cpu));
    const oc = median(ours[phase].map((x) => x.cpu));
    console.log(
      `${phase.padEnd(8)} wall: raw ip -batch ${fmt(r)}  podbgp ${fmt(o)}  ratio ${(o / r).toFixed(2)}x` +
        `   (raw ${raw[phase].map((x) => fmt(x.wall)).join(', ')}; podbgp ${ours[phase].map((x) => fmt(x.wall)).join(', ')})`,
    );
    console.log(
      `${''.padEnd(8)} cpu (node + ip): raw ${fmt(rc)}  podbgp ${fmt(oc)}  ratio ${(oc / rc).toFixed(2)}x`,
    );
  }
  console.log(
    `single-route change -> in kernel (with ${COUNT} routes installed, ${latencies.length} samples): ` +
      `median ${median(latencies).toFixed(1)} ms, p95 ${pct(latencies, 95).toFixed(1)} ms, ` +
      `max ${Math.max(...latencies).toFixed(1)} ms`,
  );
}

/** update() one prefix and time until `ip monitor` in the namespace shows it. */
async function measureLatency(sync: KernelSync, samples: number): Promise<number[]> {
  const mon = spawn('ip', ['-n', NS, 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let waiting: { needle: string; done: () => void } | null = null;
  let buf = '';
  mon.stdout.setEncoding('utf8');
  mon.stdout.on('data', (c: string) => {
    buf += c;
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const l of lines) if (waiting !== null && l.includes(waiting.needle)) waiting.done();
  });
  await new Promise((r) => setTimeout(r, 300));
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const prefix = `172.16.${i}.0/26`;
    const seen = new Promise<void>((resolve) => {
      waiting = { needle: prefix, done: resolve };
    });
    const t0 = performance.now();
    sync.update(prefix, [NH]);
    await seen;
    out.push(performance.now() - t0);
    waiting = null;
    await new Promise((r) => setTimeout(r, 30));
  }
  for (let i = 0; i < samples; i++) sync.update(`172.16.${i}.0/26`, null);
  await sync.idle();
  mon.kill();
  return out;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
