// An in-memory `ip` for unit tests: a route table per (table), interfaces, an optional ipip
// tunnel, `-force -batch -` with iproute2's error reporting, and `ip monitor` lines.
// Must not share code with src/kernel's parsers: it is the independent oracle for them.

import type {
  BatchWriter,
  CommandResult,
  CommandRunner,
  StreamHandle,
} from '../../src/kernel/types.js';

export interface FakeNexthop {
  via: string;
  dev: string;
  onlink?: boolean;
  weight?: number;
}

export interface FakeRoute {
  dst: string;
  table: string;
  proto: string;
  type: 'unicast' | 'blackhole';
  nexthops: FakeNexthop[];
  mtu?: number;
}

export interface FakeLink {
  ifname: string;
  mtu: number;
  up?: boolean;
  addrs: string[]; // "192.168.30.71/24"
}

const TABLE_NUM: Record<string, string> = { main: '254', local: '255', default: '253' };
const PROTO_NUM: Record<string, string> = {
  bgp: '186',
  static: '4',
  boot: '3',
  kernel: '2',
  bird: '12',
};
const tnum = (t: string): string => TABLE_NUM[t] ?? t;
const pnum = (p: string): string => PROTO_NUM[p] ?? p;

export class FakeIp implements CommandRunner {
  routes = new Map<string, FakeRoute>(); // key: table|dst
  links: FakeLink[] = [];
  linkRoutes: { dst: string; dev: string; protocol?: string }[] = [];
  ipipSupported = false;
  tunnel: { name: string; mtu: number; up: boolean; pmtudisc: boolean; addrs: string[] } | null =
    null;
  /** Every `ip` invocation, for assertions. */
  calls: { args: string[]; input?: string }[] = [];
  /** The lines of each batch, in order. */
  batches: string[][] = [];
  /** Make a line fail when it mentions this prefix: prefix -> kernel message. */
  failOn = new Map<string, string>();
  private monitors = new Set<(line: string) => void>();

  addLink(ifname: string, addrs: string[], mtu = 1500): void {
    this.links.push({ ifname, mtu, up: true, addrs });
  }

  /** Adds a route directly, as another program would (emits a monitor event). */
  external(route: FakeRoute, op: 'add' | 'del' = 'add'): void {
    const key = `${tnum(route.table)}|${route.dst}`;
    if (op === 'add') {
      this.routes.set(key, route);
      this.emit(this.format(route, false));
    } else {
      const old = this.routes.get(key);
      if (old === undefined) return;
      this.routes.delete(key);
      this.emit(this.format(old, true));
    }
  }

  get(dst: string, table = 'main'): FakeRoute | undefined {
    return this.routes.get(`${tnum(table)}|${dst}`);
  }

  /** The batch lines only (the calls with -batch). */
  get batchCount(): number {
    return this.batches.length;
  }

  private emit(line: string): void {
    for (const m of this.monitors) for (const l of line.split('\n')) m(l);
  }

  format(r: FakeRoute, deleted: boolean): string {
    let s = `[ROUTE]${deleted ? 'Deleted ' : ''}`;
    const table = tnum(r.table) === '254' ? '' : ` table ${r.table}`;
    if (r.type === 'blackhole') return `${s}blackhole ${r.dst}${table} proto ${r.proto} `;
    if (r.nexthops.length === 1) {
      const nh = r.nexthops[0];
      s += `${r.dst} via ${nh.via} dev ${nh.dev}${table} proto ${r.proto} ${nh.onlink ? 'onlink ' : ''}`;
      if (r.mtu !== undefined) s += `mtu ${r.mtu} `;
      return s;
    }
    s += `${r.dst}${table} proto ${r.proto} ${r.mtu !== undefined ? `mtu ${r.mtu} ` : ''}`;
    for (const nh of r.nexthops) {
      s += `\n\tnexthop via ${nh.via} dev ${nh.dev} weight ${nh.weight ?? 1} ${nh.onlink ? 'onlink ' : ''}`;
    }
    return s;
  }

  private json(r: FakeRoute): Record<string, unknown> {
    const o: Record<string, unknown> = {};
    if (r.type === 'blackhole') o.type = 'blackhole';
    o.dst = r.dst;
    if (r.type === 'unicast' && r.nexthops.length === 1) {
      o.gateway = r.nexthops[0].via;
      o.dev = r.nexthops[0].dev;
    }
    o.flags = r.nexthops.length === 1 && r.nexthops[0].onlink ? ['onlink'] : [];
    if (r.nexthops.length > 1) {
      o.nexthops = r.nexthops.map((n) => ({
        gateway: n.via,
        dev: n.dev,
        weight: n.weight ?? 1,
        flags: n.onlink ? ['onlink'] : [],
      }));
    }
    if (r.mtu !== undefined) o.metrics = [{ mtu: r.mtu }];
    return o;
  }

  async run(args: readonly string[], input?: string): Promise<CommandResult> {
    this.calls.push({ args: [...args], input });
    const a = [...args];
    const ok = (stdout = ''): CommandResult => ({ code: 0, stdout, stderr: '' });
    let six = false;
    if (a[0] === '-6') {
      six = true;
      a.shift();
    }
    const j = a.join(' ');
    let m: RegExpExecArray | null;
    if ((m = /^-json route show table (\S+) proto (\S+)$/.exec(j)) !== null) {
      const [, table, proto] = m;
      const out = [...this.routes.values()].filter(
        (r) =>
          tnum(r.table) === tnum(table) &&
          pnum(r.proto) === pnum(proto) &&
          r.dst.includes(':') === six,
      );
      return ok(JSON.stringify(out.map((r) => this.json(r))));
    }
    if (j === '-json addr show') {
      return ok(
        JSON.stringify(
          this.links.map((l) => ({
            ifname: l.ifname,
            mtu: l.mtu,
            flags: l.up === false ? [] : ['UP'],
            addr_info: l.addrs.map((x) => {
              const [local, len] = x.split('/');
              return {
                family: local.includes(':') ? 'inet6' : 'inet',
                local,
                prefixlen: Number(len),
                scope: 'global',
              };
            }),
          })),
        ),
      );
    }
    if (j === '-json route show table main scope link') return ok(JSON.stringify(this.linkRoutes));
    if (j === '-json route show table main default') return ok('[]');
    if ((m = /^-d -json addr show dev (\S+)$/.exec(j)) !== null) {
      const t = this.tunnel;
      if (t === null || t.name !== m[1])
        return { code: 1, stdout: '', stderr: `Device "${m[1]}" does not exist.\n` };
      return ok(
        JSON.stringify([
          {
            ifname: t.name,
            mtu: t.mtu,
            flags: t.up ? ['NOARP', 'UP'] : ['NOARP'],
            linkinfo: { info_kind: 'ipip', info_data: { pmtudisc: t.pmtudisc } },
            addr_info: t.addrs.map((x) => ({
              family: 'inet',
              local: x.split('/')[0],
              prefixlen: 32,
            })),
          },
        ]),
      );
    }
    if ((m = /^link add name (\S+) type ipip$/.exec(j)) !== null) {
      if (!this.ipipSupported)
        return { code: 2, stdout: '', stderr: 'Error: Unknown device type.\n' };
      this.tunnel = { name: m[1], mtu: 1480, up: false, pmtudisc: false, addrs: [] };
      return ok();
    }
    if ((m = /^link set dev (\S+) mtu (\d+) up$/.exec(j)) !== null && this.tunnel !== null) {
      this.tunnel.mtu = Number(m[2]);
      this.tunnel.up = true;
      return ok();
    }
    if (/^tunnel change \S+ mode ipip pmtudisc$/.test(j) && this.tunnel !== null) {
      this.tunnel.pmtudisc = true;
      return ok();
    }
    if ((m = /^addr replace (\S+) dev (\S+)$/.exec(j)) !== null && this.tunnel !== null) {
      if (!this.tunnel.addrs.includes(m[1])) this.tunnel.addrs.push(m[1]);
      return ok();
    }
    if ((m = /^addr del (\S+) dev (\S+)$/.exec(j)) !== null && this.tunnel !== null) {
      this.tunnel.addrs = this.tunnel.addrs.filter((x) => x !== m![1]);
      return ok();
    }
    if (j === '-force -batch -') return this.batch(input ?? '');
    return { code: 255, stdout: '', stderr: `fake ip: unsupported command: ${j}\n` };
  }

  /** Streaming batches: chunks are collected, then run as one batch when stdin closes. */
  open(args: readonly string[]): BatchWriter {
    let input = '';
    this.chunks = 0;
    return {
      write: async (chunk: string | Uint8Array) => {
        this.chunks++;
        input += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('latin1');
      },
      end: () => this.run(args, input),
    };
  }

  /** Chunks written to the last streamed batch. */
  chunks = 0;

  private batch(input: string): CommandResult {
    const lines = input.split('\n').filter((l) => l !== '');
    this.batches.push(lines);
    let stderr = '';
    lines.forEach((line, i) => {
      const err = this.exec(line);
      if (err !== null) stderr += `${err}\nCommand failed -:${i + 1}\n`;
    });
    return { code: stderr === '' ? 0 : 1, stdout: '', stderr };
  }

  /** Executes one `route add|replace|del` line; returns iproute2's error text or null. */
  private exec(line: string): string | null {
    const t = line.split(/\s+/);
    if (t[0] !== 'route') return `Command "${t[0]}" is unknown, try "ip help".`;
    const op = t[1];
    let i = 2;
    const r: FakeRoute = { dst: '', table: 'main', proto: 'boot', type: 'unicast', nexthops: [] };
    if (t[i] === 'blackhole') {
      r.type = 'blackhole';
      i++;
    }
    r.dst = t[i++];
    for (const [p, msg] of this.failOn) if (r.dst === p) return msg;
    let cur: FakeNexthop | null = null;
    for (; i < t.length; i++) {
      const k = t[i];
      if (k === 'nexthop') {
        cur = { via: '', dev: '' };
        r.nexthops.push(cur);
      } else if (k === 'via') {
        if (cur === null) {
          cur = { via: '', dev: '' };
          r.nexthops.push(cur);
        }
        cur.via = t[++i];
      } else if (k === 'dev') {
        if (cur === null) return 'fake ip: dev before via';
        cur.dev = t[++i];
      } else if (k === 'weight') {
        if (cur !== null) cur.weight = Number(t[++i]);
      } else if (k === 'onlink') {
        if (cur !== null) cur.onlink = true;
      } else if (k === 'proto') r.proto = t[++i];
      else if (k === 'table') r.table = t[++i];
      else if (k === 'mtu') r.mtu = Number(t[++i]);
      else return `Error: either "to" is duplicate, or "${k}" is a garbage.`;
    }
    const key = `${tnum(r.table)}|${r.dst}`;
    const old = this.routes.get(key);
    if (op === 'del') {
      if (old === undefined || pnum(old.proto) !== pnum(r.proto))
        return 'RTNETLINK answers: No such process';
      this.routes.delete(key);
      this.emit(this.format(old, true));
      return null;
    }
    if (op === 'add' && old !== undefined) return 'RTNETLINK answers: File exists';
    if (op !== 'add' && op !== 'replace') return `fake ip: unknown op ${op}`;
    for (const nh of r.nexthops) {
      if (nh.dev === this.tunnel?.name) continue;
      if (!this.links.some((l) => l.ifname === nh.dev))
        return 'Cannot find device "' + nh.dev + '"';
    }
    this.routes.set(key, r);
    this.emit(this.format(r, false));
    return null;
  }

  stream(
    args: readonly string[],
    onLine: (line: string) => void,
    onExit: (code: number | null, stderr: string) => void,
  ): StreamHandle {
    this.calls.push({ args: [...args] });
    this.monitors.add(onLine);
    return {
      kill: () => {
        if (this.monitors.delete(onLine)) onExit(null, '');
      },
    };
  }

  get monitorCount(): number {
    return this.monitors.size;
  }
}

/** A manual clock: timers fire only when the test advances time. */
export class FakeClock {
  t = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 1;

  now = (): number => this.t;

  setTimeout = (fn: () => void, ms: number): number => {
    const id = this.nextId++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  };

  clearTimeout = (h: unknown): void => {
    this.timers = this.timers.filter((x) => x.id !== h);
  };

  pending(): number {
    return this.timers.length;
  }

  /** Moves time forward, firing due timers in order and letting promises settle between. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await settle();
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (next === undefined || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
      await settle();
    }
    this.t = end;
    await settle();
  }
}

export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
}
