// In-process kernel sync benchmark at a full Internet table: 1,000,000 IPv4 /24 updates sharing
// one next-hop array, fed to KernelSync over a fake `ip` (no root, no kernel): heap bytes held per
// prefix, ns per update() call, the install pass, the verify read, and the full withdrawal.
// Run: node --expose-gc --import tsx bench/kernel-memory.ts [routes=1000000] [string|number]
import { performance } from 'node:perf_hooks';
import { cpus } from 'node:os';
import pino from 'pino';
import { KernelSync } from '../src/kernel/index.js';
import type {
  BatchWriter,
  CommandResult,
  CommandRunner,
  StreamHandle,
} from '../src/kernel/types.js';

const COUNT = Number(process.argv[2] ?? 1_000_000);
const MODE = (process.argv[3] ?? 'number') as 'number' | 'string';
const NH = '192.168.30.72';
const DEV = 'eth0';
/** Prefix i is the /24 at 16.0.0.0 + i * 256. */
const BASE = 0x10000000;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error('run with node --expose-gc --import tsx bench/kernel-memory.ts');
  process.exit(2);
}

function addrText(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** Index of the prefix a batch line names, from its dotted quad; -1 if not one of ours. */
function indexOfLine(line: string, from: number): number {
  let v = 0;
  let oct = 0;
  let i = from;
  for (; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 46) {
      v = v * 256 + oct;
      oct = 0;
    } else if (c >= 48 && c <= 57) oct = oct * 10 + (c - 48);
    else break;
  }
  v = v * 256 + oct;
  const idx = (v - BASE) / 256;
  return idx >= 0 && idx < COUNT && Number.isInteger(idx) ? idx : -1;
}

/**
 * A fake `ip`: one connected segment, a bitmap of which bench prefixes are installed, and
 * `ip -json route show` rendered from that bitmap as the real one prints it.
 */
class BenchIp implements CommandRunner {
  installed = new Uint8Array(COUNT);
  lines = 0;
  writes = 0;
  fakeMs = 0;

  private apply(text: string): void {
    const t0 = performance.now();
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end === -1) end = text.length;
      // "route add P ..." / "route replace P ..." / "route del P ..."
      const verbEnd = text.indexOf(' ', start + 6);
      const idx = indexOfLine(text, verbEnd + 1);
      if (idx >= 0) this.installed[idx] = text.charCodeAt(start + 6) === 100 ? 0 : 1;
      this.lines++;
      start = end + 1;
    }
    this.fakeMs += performance.now() - t0;
  }

  async run(args: readonly string[], input?: string): Promise<CommandResult> {
    const j = args.join(' ');
    const ok = (stdout: string): CommandResult => ({ code: 0, stdout, stderr: '' });
    if (j === '-json addr show') {
      return ok(
        JSON.stringify([
          {
            ifname: DEV,
            mtu: 1500,
            flags: ['UP'],
            addr_info: [{ family: 'inet', local: '192.168.30.71', prefixlen: 24 }],
          },
        ]),
      );
    }
    if (j.startsWith('-json route show table main scope link')) return ok('[]');
    if (j.startsWith('-6 -json route show')) return ok('[]');
    if (j.startsWith('-json route show table')) {
      const t0 = performance.now();
      const parts: string[] = [];
      for (let i = 0; i < COUNT; i++) {
        if (this.installed[i] === 1) {
          parts.push(
            `{"dst":"${addrText(BASE + i * 256)}/24","gateway":"${NH}","dev":"${DEV}","protocol":"bgp","scope":"global","flags":[]}`,
          );
        }
      }
      const out = `[${parts.join(',')}]`;
      this.fakeMs += performance.now() - t0;
      return ok(out);
    }
    if (j === '-force -batch -') {
      this.writes++;
      this.apply(input ?? '');
      return ok('');
    }
    return { code: 255, stdout: '', stderr: `bench ip: unsupported: ${j}\n` };
  }

  open(): BatchWriter {
    return {
      write: async (chunk: string | Uint8Array) => {
        this.writes++;
        this.apply(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('latin1'));
      },
      end: async () => ({ code: 0, stdout: '', stderr: '' }),
    };
  }

  stream(): StreamHandle {
    return { kill: () => undefined };
  }

  count(): number {
    let n = 0;
    for (let i = 0; i < COUNT; i++) n += this.installed[i];
    return n;
  }
}

function heap(): number {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  // Typed-array backing stores live outside the JS heap: count them too.
  return m.heapUsed + m.arrayBuffers;
}

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function main(): Promise<void> {
  const ip = new BenchIp();
  const sync = new KernelSync({
    runner: ip,
    logger: pino({ level: 'warn' }),
    resyncIntervalMs: 0,
    convergeTimeoutMs: 0,
  });
  await sync.start();
  sync.markConverged();
  await sync.idle();
  const nexthops: readonly string[] = [NH];
  const update = sync.update.bind(sync) as (
    p: string | number,
    n: readonly string[] | null,
  ) => void;

  const h0 = heap();
  // String mode: the caller's strings are made after the baseline (outside the timing) and
  // dropped before the heap is read, so the figure counts the ones KernelSync keeps.
  let keys: string[] | null = null;
  if (MODE === 'string') {
    keys = new Array<string>(COUNT);
    for (let i = 0; i < COUNT; i++) keys[i] = `${addrText(BASE + i * 256)}/24`;
  }

  let t0 = performance.now();
  if (keys !== null) for (let i = 0; i < COUNT; i++) update(keys[i], nexthops);
  else for (let i = 0; i < COUNT; i++) update((BASE + i * 256) * 64 + 24, nexthops);
  const loadNs = ((performance.now() - t0) * 1e6) / COUNT;
  if (keys !== null) keys.length = 0;
  const hLoaded = heap();

  let c0 = cpuMs();
  ip.fakeMs = 0;
  t0 = performance.now();
  await sync.idle();
  const installMs = performance.now() - t0 - ip.fakeMs;
  const installCpu = cpuMs() - c0 - ip.fakeMs;
  const installWrites = ip.writes;
  if (ip.count() !== COUNT) throw new Error(`install incomplete: ${ip.count()} of ${COUNT}`);

  c0 = cpuMs();
  ip.fakeMs = 0;
  t0 = performance.now();
  await sync.resync();
  const verifyMs = performance.now() - t0 - ip.fakeMs;
  const verifyCpu = cpuMs() - c0 - ip.fakeMs;
  const st = sync.routeStatus(`${addrText(BASE + 256 * 7)}/24`);
  if (st === null || !st.installed) throw new Error('routeStatus: not installed after verify');
  const hSynced = heap();

  t0 = performance.now();
  if (MODE === 'string')
    for (let i = 0; i < COUNT; i++) update(`${addrText(BASE + i * 256)}/24`, null);
  else for (let i = 0; i < COUNT; i++) update((BASE + i * 256) * 64 + 24, null);
  const withdrawNs = ((performance.now() - t0) * 1e6) / COUNT;
  c0 = cpuMs();
  ip.fakeMs = 0;
  t0 = performance.now();
  await sync.idle();
  const removeMs = performance.now() - t0 - ip.fakeMs;
  const removeCpu = cpuMs() - c0 - ip.fakeMs;
  if (ip.count() !== 0) throw new Error(`withdrawal incomplete: ${ip.count()} left`);
  const hEmpty = heap();
  await sync.stop();

  const per = (h: number): string => `${((h - h0) / COUNT).toFixed(1)} B/prefix`;
  console.log(
    `kernel sync in-process benchmark: ${COUNT} IPv4 /24 updates as ${MODE} keys, one shared next-hop array`,
  );
  console.log(
    `machine: ${cpus().length} CPUs, ${cpus()[0]?.model ?? '?'}, node ${process.version}, ${new Date().toISOString()}`,
  );
  console.log(`load:     ${loadNs.toFixed(0)} ns per update()          held: ${per(hLoaded)}`);
  console.log(
    `install:  ${installMs.toFixed(0)} ms wall, ${installCpu.toFixed(0)} ms CPU (fake ip excluded), ${installWrites} writes, ${ip.lines} lines`,
  );
  console.log(
    `verify:   ${verifyMs.toFixed(0)} ms wall, ${verifyCpu.toFixed(0)} ms CPU (full read of ${COUNT} routes)`,
  );
  console.log(`in sync:  held: ${per(hSynced)}`);
  console.log(
    `withdraw: ${withdrawNs.toFixed(0)} ns per update(null); delete pass ${removeMs.toFixed(0)} ms wall, ${removeCpu.toFixed(0)} ms CPU; held after: ${per(hEmpty)}`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
