// Shared by the kernel netns tests: a namespace with two connected segments, `ip` inside it,
// and the routes of one protocol as `ip -json` prints them. Not a test file.
import type { Test } from 'tap';
import { execFileSync } from 'node:child_process';

export interface JsonRoute {
  dst: string;
  type?: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  flags?: string[];
  nexthops?: { gateway: string; dev: string; weight: number }[];
}

export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
}

let nsCounter = 0;

/**
 * A namespace (removed at teardown) with two segments on a veth pair: `${prefix}-a` holds
 * 192.168.30.71/24 and fd00:30::71/64, `${prefix}-b` holds 192.168.26.71/24.
 */
export function makeSegmentsNs(t: Test, prefix: string): string {
  const ns = `${prefix}-${process.pid % 10000}-${nsCounter++}`;
  const [a, b] = [`${prefix}-a`, `${prefix}-b`];
  ip('netns', 'add', ns);
  t.teardown(() => {
    try {
      ip('netns', 'del', ns);
    } catch {
      // already gone
    }
  });
  ip('-n', ns, 'link', 'set', 'lo', 'up');
  ip('-n', ns, 'link', 'add', a, 'type', 'veth', 'peer', 'name', b);
  ip('-n', ns, 'link', 'set', a, 'up');
  ip('-n', ns, 'link', 'set', b, 'up');
  ip('-n', ns, 'addr', 'add', '192.168.30.71/24', 'dev', a);
  ip('-n', ns, 'addr', 'add', 'fd00:30::71/64', 'dev', a, 'nodad');
  ip('-n', ns, 'addr', 'add', '192.168.26.71/24', 'dev', b);
  return ns;
}

/** The routes of table main with protocol `proto`. */
export function routes(ns: string, family: '-4' | '-6' = '-4', proto = 'bgp'): JsonRoute[] {
  return JSON.parse(
    ip('-n', ns, family, '-json', 'route', 'show', 'table', 'main', 'proto', proto),
  ) as JsonRoute[];
}
