// Interop: the podbgp session layer against BIRD 2 in a network namespace (issue #3 points 1-6).
// BIRD is driven only through its config and birdc; nothing here touches the system BIRD.
// RFC 4271 §8, RFC 4724, RFC 6793, RFC 1997, RFC 8092, RFC 9003.

import t from 'tap';
import { startBird } from './lib/index.js';
import {
  DAEMON_ASN,
  DAEMON_ROUTES,
  PODBGP_ASN,
  daemonSuite,
  isV6,
  type CliRoute,
  type DaemonAdapter,
} from './session-common.js';

/** BIRD prints NOTIFICATION names only; these are the ones the scenario produces. */
const BIRD_NAMES: [RegExp, number, number][] = [
  [/Administrative shutdown/i, 6, 2],
  [/Administrative reset/i, 6, 4],
  [/Hold timer expired/i, 4, 0],
];

/** Parses `birdc show route all` into routes (BGP attributes only). */
export function parseBirdRoutes(text: string): CliRoute[] {
  const out: CliRoute[] = [];
  let cur: CliRoute | null = null;
  for (const line of text.split('\n')) {
    const head = /^(\S+\/\d+)\s+unicast/.exec(line);
    if (head) {
      cur = { prefix: head[1], nextHop: '', asPath: [], communities: [], largeCommunities: [] };
      out.push(cur);
      continue;
    }
    if (!cur) continue;
    const attr = /^\s+BGP\.(\w+):\s*(.*)$/.exec(line);
    if (!attr) continue;
    const [, name, value] = attr;
    if (name === 'as_path') cur.asPath = value.trim() ? value.trim().split(/\s+/).map(Number) : [];
    if (name === 'next_hop') cur.nextHop = value.trim().split(/\s+/)[0];
    if (name === 'med') cur.med = Number(value);
    if (name === 'community') {
      cur.communities = [...value.matchAll(/\((\d+),\s*(\d+)\)/g)].map((m) => `${m[1]}:${m[2]}`);
    }
    if (name === 'large_community') {
      cur.largeCommunities = [...value.matchAll(/\((\d+),\s*(\d+),\s*(\d+)\)/g)].map(
        (m) => `${m[1]}:${m[2]}:${m[3]}`,
      );
    }
  }
  return out;
}

const STATIC = (p: string): string =>
  (isV6(p) ? 's6' : 's4') + (DAEMON_ROUTES.keep.includes(p) ? '' : 'w');

const bird: DaemonAdapter = {
  name: 'bird',
  prefix: 'pbs-bi',
  async start(cleanup, o) {
    const statics = [...DAEMON_ROUTES.keep, ...DAEMON_ROUTES.withdraw].map(
      (p) => `protocol static ${STATIC(p)} { ${isV6(p) ? 'ipv6' : 'ipv4'}; route ${p} blackhole; }`,
    );
    const communities = DAEMON_ROUTES.communities
      .map((c) => `bgp_community.add((${c.replace(':', ',')}));`)
      .join(' ');
    const large = DAEMON_ROUTES.largeCommunities
      .map((c) => `bgp_large_community.add((${c.split(':').join(',')}));`)
      .join(' ');
    const config = [
      `router id ${o.self.v4};`,
      'log stderr all;',
      'protocol device {}',
      ...statics,
      `filter out_pb { if source = RTS_STATIC then { bgp_med = ${DAEMON_ROUTES.med}; ${communities} ${large} accept; } reject; }`,
      'protocol bgp pb {',
      `  local ${o.self.v4} as ${DAEMON_ASN};`,
      `  neighbor ${o.peer.v4} as ${PODBGP_ASN};`,
      `  hold time ${o.holdTime};`,
      `  passive ${o.passive ? 'on' : 'off'};`,
      '  connect delay time 1; connect retry time 1; error wait time 1, 2;',
      '  graceful restart on;',
      '  ipv4 { import all; export filter out_pb; };',
      `  ipv6 { import all; export filter out_pb; next hop address ${o.self.v6}; };`,
      '}',
      '',
    ].join('\n');
    const h = await startBird(cleanup, { ns: o.ns, config });
    return {
      process: h.process,
      waitEstablished: (ms) => h.waitEstablished('pb', ms),
      isEstablished: () => h.isEstablished('pb'),
      routes: async () => parseBirdRoutes(await h.cli('show route all protocol pb')),
      withdraw: async (prefixes) => {
        for (const name of new Set(prefixes.map(STATIC))) await h.cli(`disable ${name}`);
      },
      shutdown: async (message) => void (await h.cli(`disable pb "${message}"`)),
      enable: async () => void (await h.cli('enable pb')),
      receivedNotification: async () => {
        const info = await h.cli('show protocols all pb');
        const last = /Last error:\s+Received:\s*(.*)/.exec(info)?.[1];
        if (!last) return undefined;
        const known = BIRD_NAMES.find(([re]) => re.test(last));
        if (!known) throw new Error(`BIRD reports an unexpected NOTIFICATION: ${last}`);
        const msg = /:\s*"?([^"]*)"?$/.exec(last.replace(known[0], ''))?.[1];
        return { code: known[1], subcode: known[2], message: msg?.trim() || undefined };
      },
      negotiatedCapabilities: async () => {
        const info = await h.cli('show protocols all pb');
        const caps = /Neighbor capabilities([\s\S]*?)(Session:|Channel)/.exec(info)?.[1] ?? '';
        return {
          'podbgp offered 4-octet AS numbers': /4-octet AS numbers/.test(caps),
          'podbgp offered route refresh': /Route refresh/.test(caps),
          'podbgp offered graceful restart': /Graceful restart/.test(caps),
          'podbgp offered IPv4 and IPv6': /AF announced:\s*ipv4 ipv6/.test(caps),
          'session is AS4': /Session:.*AS4/.test(info),
        };
      },
    };
  },
};

await daemonSuite(t, bird);
