// Interop: the podbgp session layer against FRR's bgpd in a network namespace (issue #3 points
// 1-6). FRR is driven through its config and vtysh JSON; nothing touches the system FRR.
// RFC 4271 §8, RFC 4724, RFC 6793, RFC 1997, RFC 8092, RFC 9003.

import t from 'tap';
import { startFrr } from './lib/index.js';
import {
  DAEMON_ASN,
  DAEMON_ROUTES,
  PODBGP_ASN,
  PODBGP_ROUTES,
  daemonSuite,
  isV6,
  type CliRoute,
  type DaemonAdapter,
} from './session-common.js';

interface FrrPath {
  aspath?: { segments?: { type: string; list: number[] }[]; string?: string };
  med?: number;
  metric?: number;
  community?: { list?: string[]; string?: string };
  largeCommunity?: { list?: string[]; string?: string };
  nexthops?: { ip?: string; scope?: string }[];
  peer?: { peerId?: string };
}

const frr: DaemonAdapter = {
  name: 'frr',
  prefix: 'pbs-fr',
  async start(cleanup, o) {
    const peer = o.peer.v4;
    const af = (v6: boolean): string[] => {
      const nets = [...DAEMON_ROUTES.keep, ...DAEMON_ROUTES.withdraw].filter((p) => isV6(p) === v6);
      return [
        ` address-family ${v6 ? 'ipv6' : 'ipv4'} unicast`,
        ...nets.map((p) => `  network ${p}`),
        `  neighbor ${peer} activate`,
        `  neighbor ${peer} route-map OUT out`,
        ' exit-address-family',
      ];
    };
    const config = [
      'frr defaults traditional',
      'hostname frr-pbs',
      'log stdout informational',
      'route-map OUT permit 10',
      ` set metric ${DAEMON_ROUTES.med}`,
      ` set community ${DAEMON_ROUTES.communities.join(' ')}`,
      ` set large-community ${DAEMON_ROUTES.largeCommunities.join(' ')}`,
      'exit',
      `router bgp ${DAEMON_ASN}`,
      ` bgp router-id ${o.self.v4}`,
      ' no bgp ebgp-requires-policy',
      ' no bgp network import-check',
      ' bgp graceful-restart',
      ` timers bgp ${Math.max(1, Math.floor(o.holdTime / 3))} ${o.holdTime}`,
      ` neighbor ${peer} remote-as ${PODBGP_ASN}`,
      ` neighbor ${peer} timers connect 1`,
      ...(o.passive ? [` neighbor ${peer} passive`] : []),
      ...af(false),
      ...af(true),
      '',
    ].join('\n');
    const h = await startFrr(cleanup, { ns: o.ns, config });
    const neighbor = async (): Promise<Record<string, unknown>> => (await h.neighbor(peer)) ?? {};
    return {
      process: h.process,
      waitEstablished: (ms) => h.waitEstablished(peer, ms),
      isEstablished: () => h.isEstablished(peer),
      routes: async () => {
        const out: CliRoute[] = [];
        for (const p of [...PODBGP_ROUTES.keep, ...PODBGP_ROUTES.withdraw]) {
          const fam = isV6(p) ? 'ipv6' : 'ipv4';
          const j = await h.json<{ paths?: FrrPath[] }>(`show bgp ${fam} unicast ${p} json`);
          const path = j.paths?.find((x) => x.peer?.peerId === peer);
          if (!path) continue;
          const global = path.nexthops?.find((n) => n.scope !== 'link-local') ?? path.nexthops?.[0];
          out.push({
            prefix: p,
            nextHop: global?.ip ?? '',
            asPath: (path.aspath?.segments ?? []).flatMap((s) => s.list),
            med: path.med ?? path.metric,
            communities: path.community?.string?.split(' ').filter(Boolean) ?? [],
            largeCommunities: path.largeCommunity?.string?.split(' ').filter(Boolean) ?? [],
          });
        }
        return out;
      },
      withdraw: async (prefixes) => {
        for (const v6 of [false, true]) {
          const nets = prefixes.filter((p) => isV6(p) === v6);
          if (nets.length === 0) continue;
          await h.configure(
            [
              `address-family ${v6 ? 'ipv6' : 'ipv4'} unicast`,
              ...nets.map((p) => `no network ${p}`),
            ],
            DAEMON_ASN,
          );
        }
      },
      shutdown: async (message) =>
        void (await h.configure([`neighbor ${peer} shutdown message ${message}`], DAEMON_ASN)),
      enable: async () => void (await h.configure([`no neighbor ${peer} shutdown`], DAEMON_ASN)),
      receivedNotification: async () => {
        const n = await neighbor();
        const code = n.lastErrorCodeSubcode as string | undefined;
        if (!code || !/received/i.test(String(n.lastResetDueTo ?? ''))) return undefined;
        const desc = n.lastShutdownDescription as string | undefined;
        return {
          code: parseInt(code.slice(0, 2), 16),
          subcode: parseInt(code.slice(2, 4), 16),
          message: desc || undefined,
        };
      },
      negotiatedCapabilities: async () => {
        const n = await neighbor();
        const caps = (n.neighborCapabilities ?? {}) as Record<string, unknown>;
        const mp = (caps.multiprotocolExtensions ?? {}) as Record<string, Record<string, unknown>>;
        const gr = String(caps.gracefulRestart ?? caps.gracefulRestartCapability ?? '');
        return {
          '4-octet AS advertised and received': caps['4byteAs'] === 'advertisedAndReceived',
          'route refresh advertised and received': /advertisedAndReceived/.test(
            String(caps.routeRefresh ?? ''),
          ),
          'graceful restart advertised and received': /advertisedAndReceived/.test(gr),
          'IPv4 unicast both ways': mp.ipv4Unicast?.advertisedAndReceived === true,
          'IPv6 unicast both ways': mp.ipv6Unicast?.advertisedAndReceived === true,
        };
      },
    };
  },
};

await daemonSuite(t, frr);
