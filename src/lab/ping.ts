// The lab's ping matrix: one ICMP echo from every pod namespace to every other pod, and its
// rendering as a green/red table. Must not change any route or link. No RFC (ICMP echo only).

import { existsSync } from 'node:fs';
import { mapLimit, type Runner } from './exec.js';
import { allPods, type LabPlan } from './plan.js';

export interface PingResult {
  from: string;
  to: string;
  fromAddress: string;
  toAddress: string;
  ok: boolean;
}

/** `ping` from iputils when installed, else busybox's. */
export function pingCommand(): string[] {
  for (const p of ['/usr/bin/ping', '/bin/ping', '/usr/sbin/ping']) {
    if (existsSync(p)) return [p];
  }
  for (const b of ['/usr/bin/busybox', '/bin/busybox']) {
    if (existsSync(b)) return [b, 'ping'];
  }
  throw new Error('no ping: install iputils-ping or busybox-static');
}

/** Pings every ordered pair of pods (`ping -c1 -W1`), a few at a time. */
export async function pingMatrix(
  run: Runner,
  plan: LabPlan,
  concurrency = 8,
): Promise<PingResult[]> {
  const pods = allPods(plan);
  const ping = pingCommand();
  const pairs = pods.flatMap((a) => pods.filter((b) => b !== a).map((b) => [a, b] as const));
  return mapLimit(pairs, concurrency, async ([a, b]) => {
    const r = await run('ip', ['netns', 'exec', a.ns, ...ping, '-c', '1', '-W', '1', b.address], {
      timeoutMs: 5_000,
    });
    return {
      from: a.name,
      to: b.name,
      fromAddress: a.address,
      toAddress: b.address,
      ok: r.code === 0,
    };
  });
}

const GREEN = '\x1b[32m';
const RED = '\x1b[31m';
const RESET = '\x1b[0m';

/** Rows are sources, columns destinations; `ok`/`XX`, coloured when `color`. */
export function formatMatrix(plan: LabPlan, results: PingResult[], color: boolean): string {
  const names = allPods(plan).map((p) => p.name);
  const ok = new Map(results.map((r) => [`${r.from}>${r.to}`, r.ok]));
  const w = Math.max(...names.map((n) => n.length)) + 1;
  const cell = (s: string, c?: string): string => {
    const pad = s.padStart(w);
    return color && c ? `${c}${pad}${RESET}` : pad;
  };
  const lines = [' '.repeat(w) + ' ' + names.map((n) => n.padStart(w)).join('')];
  for (const from of names) {
    let line = from.padEnd(w) + ' ';
    for (const to of names) {
      if (from === to) line += cell('-');
      else if (ok.get(`${from}>${to}`)) line += cell('ok', GREEN);
      else line += cell('XX', RED);
    }
    lines.push(line);
  }
  const good = results.filter((r) => r.ok).length;
  const summary = `${good}/${results.length} pairs answered`;
  lines.push(color ? `${good === results.length ? GREEN : RED}${summary}${RESET}` : summary);
  return lines.join('\n');
}
