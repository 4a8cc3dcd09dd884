// Interop: the podbgp session layer against OpenBGPD in a network namespace (issue #3 points
// 1-6). OpenBGPD is driven through bgpd.conf and bgpctl (JSON output); nothing touches
// /etc/bgpd.conf. RFC 4271 §8, RFC 4724, RFC 6793, RFC 1997, RFC 8092, RFC 9003.

import t from 'tap';
import { startOpenbgpd } from './lib/index.js';
import {
  DAEMON_ASN,
  DAEMON_ROUTES,
  PODBGP_ASN,
  daemonSuite,
  isV6,
  signalAll,
  type CliRoute,
  type DaemonAdapter,
} from './session-common.js';

/** One entry of `bgpctl -j show rib detail` (only the fields used here). */
interface BgpctlRib {
  prefix?: string;
  aspath?: string;
  exit_nexthop?: string;
  true_nexthop?: string;
  metric?: number;
  neighbor?: { remote_addr?: string };
  communities?: string[];
  large_communities?: string[];
}

export function parseBgpctlRib(rib: BgpctlRib[], peer: string): CliRoute[] {
  return rib
    .filter((r) => r.neighbor?.remote_addr === peer && r.prefix)
    .map((r) => ({
      prefix: r.prefix!,
      nextHop: r.exit_nexthop ?? '',
      asPath: (r.aspath ?? '').split(/\s+/).filter(Boolean).map(Number),
      med: r.metric,
      communities: r.communities ?? [],
      largeCommunities: r.large_communities ?? [],
    }));
}

/** bgpctl prints NOTIFICATION names; these are the ones the scenario produces. */
const NAMES: [RegExp, number, number][] = [
  [/Cease.*administratively down|administrative shutdown/i, 6, 2],
  [/Cease.*administrative reset/i, 6, 4],
  [/HoldTimer expired|hold timer expired/i, 4, 0],
];

const setAttrs = (): string[] => [
  'med',
  String(DAEMON_ROUTES.med),
  ...DAEMON_ROUTES.communities.flatMap((c) => ['community', c]),
  ...DAEMON_ROUTES.largeCommunities.flatMap((c) => ['large-community', c]),
];

const openbgpd: DaemonAdapter = {
  name: 'openbgpd',
  prefix: 'pbs-ob',
  async start(cleanup, o) {
    const peer = o.peer.v4;
    const set = setAttrs().join(' ');
    const config = [
      `AS ${DAEMON_ASN}`,
      `router-id ${o.self.v4}`,
      'fib-update no',
      `holdtime ${o.holdTime}`,
      `listen on ${o.self.v4}`,
      ...DAEMON_ROUTES.keep.map((p) => `network ${p} set { ${set} }`),
      `neighbor ${peer} {`,
      `  remote-as ${PODBGP_ASN}`,
      `  local-address ${o.self.v4}`,
      `  local-address ${o.self.v6}`,
      '  announce IPv4 unicast',
      '  announce IPv6 unicast',
      '  announce restart yes',
      ...(o.passive ? ['  passive'] : []),
      '}',
      'allow from any',
      'allow to any',
      '',
    ].join('\n');
    const h = await startOpenbgpd(cleanup, { ns: o.ns, config });
    // Routes added at run time can be deleted at run time (config networks cannot).
    for (const p of DAEMON_ROUTES.withdraw) await h.cli(['network', 'add', p, ...setAttrs()]);
    const neighbor = async (): Promise<Record<string, unknown>> => {
      const j = await h.json<{ neighbors?: Record<string, unknown>[] }>(['show', 'neighbor', peer]);
      return j.neighbors?.[0] ?? {};
    };
    return {
      process: h.process,
      // bgpd is three processes (parent, session engine, RDE): freeze them all.
      signal: async (sig) => void (await signalAll(o.ns, 'bgpd', sig)),
      waitEstablished: (ms) => h.waitEstablished(peer, ms),
      isEstablished: () => h.isEstablished(peer),
      routes: async () => {
        const j = await h.json<{ rib?: BgpctlRib[] }>(['show', 'rib', 'detail']);
        return parseBgpctlRib(j.rib ?? [], peer);
      },
      // OpenBGPD-portable 7.7 sends IPv6 routes over an IPv4 session with next hop ::1 (it
      // finds no IPv6 address of its own for the session, and `set nexthop` does not apply
      // on eBGP): check podbgp against what bgpctl says was sent.
      advertisedNextHop: async (prefix) => {
        if (!isV6(prefix)) return undefined;
        const j = await h.json<{ rib?: BgpctlRib[] }>([
          'show',
          'rib',
          'out',
          'neighbor',
          peer,
          'detail',
        ]);
        return j.rib?.find((r) => r.prefix === prefix)?.exit_nexthop;
      },
      withdraw: async (prefixes) => {
        for (const p of prefixes) await h.cli(['network', 'delete', p]);
      },
      shutdown: async (message) => void (await h.cli(['neighbor', peer, 'down', message])),
      enable: async () => void (await h.cli(['neighbor', peer, 'up'])),
      receivedNotification: async () => {
        const n = await neighbor();
        const last = n.last_error_received as string | undefined;
        if (!last) return undefined;
        const known = NAMES.find(([re]) => re.test(last));
        if (!known) throw new Error(`OpenBGPD reports an unexpected NOTIFICATION: ${last}`);
        const message = n.last_shutdown_reason as string | undefined;
        return { code: known[1], subcode: known[2], message: message || undefined };
      },
      negotiatedCapabilities: async () => {
        const text = await h.cli(['show', 'neighbor', peer]);
        const neg = /Negotiated capabilities:([\s\S]*?)\n\n/.exec(text)?.[1] ?? '';
        return {
          'negotiated IPv4 and IPv6 unicast':
            /Multiprotocol extensions: IPv4 unicast, IPv6 unicast/.test(neg),
          'negotiated 4-byte AS numbers': /4-byte AS numbers/.test(neg),
          'negotiated route refresh': /Route Refresh/.test(neg),
          'negotiated graceful restart': /Graceful Restart/.test(neg),
        };
      },
    };
  },
};

await daemonSuite(t, openbgpd);
