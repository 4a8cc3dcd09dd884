// End to end through real sessions: BIRD 2 (iBGP, non-client) announces to `podbgp run`, which
// reflects to FRR (its RR client) and back. Checks ORIGINATOR_ID, CLUSTER_LIST, the unchanged
// next hop, the pool filter, split horizon and a reflected withdrawal. RFC 4456 §8, §10.

import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { request } from '../../src/control/client.js';
import type { PeerSummary, RouteRow } from '../../src/control/protocol.js';
import {
  Cleanup,
  connect,
  ip,
  makeNode,
  missingReason,
  spawnProcess,
  startBird,
  startFrr,
  tempDir,
  waitFor,
  type FrrHandle,
} from './lib/index.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const ASN = 64512;
/** Router ids differ from every interface address, so an ORIGINATOR_ID can only be one of them. */
const RID = { bird: '192.0.2.11', podbgp: '192.0.2.12', frr: '192.0.2.13' };
const CLUSTER_ID = '10.255.0.1';
const POOL = '10.248.0.0/16';
/** Inside the pool with length >= the block size (/26): accepted and reflected. */
const BIRD_ROUTES = ['10.248.1.0/26', '10.248.2.64/26'];
/** Outside every pool: podbgp's import filter must drop it (RFC 4271 §9.1.1 import policy). */
const BIRD_OUTSIDE = '10.249.0.0/24';
const FRR_ROUTE = '10.248.3.0/26';

/** The /29 of point-to-point link `i` (see lib/topology.ts linkAddresses). */
const linkNet = (i: number): string => `203.0.113.${i * 8}/29`;

const skip = (await missingReason('bird')) ?? (await missingReason('frr')) ?? false;

function birdConfig(announce: string[], podbgp: string, igp: string, via: string): string {
  return [
    `router id ${RID.bird};`,
    'protocol device {}',
    `protocol static announced { ipv4; ${announce.map((p) => `route ${p} blackhole;`).join(' ')} }`,
    // The way to FRR's next hop, for BIRD's recursive iBGP next-hop resolution; not announced.
    `protocol static to_frr { ipv4; route ${igp} via ${via}; }`,
    'protocol bgp podbgp {',
    `  local as ${ASN};`,
    `  neighbor ${podbgp} as ${ASN};`,
    '  hold time 30;',
    '  ipv4 { import all; export where proto = "announced"; };',
    '}',
    '',
  ].join('\n');
}

/** FRR's JSON for one prefix (FRR 8.x `show bgp ipv4 unicast PREFIX json`), loosely typed. */
interface FrrPath {
  originatorId?: string;
  clusterList?: { list?: string[] };
  nexthops?: { ip?: string }[];
  peer?: { peerId?: string };
}

async function frrPaths(frr: FrrHandle, prefix: string): Promise<FrrPath[]> {
  const j = await frr.json<{ paths?: FrrPath[] }>(`show bgp ipv4 unicast ${prefix} json`);
  return j.paths ?? [];
}

async function frrPrefixes(frr: FrrHandle): Promise<string[]> {
  const j = await frr.json<{ routes?: Record<string, unknown> }>('show bgp ipv4 unicast json');
  return Object.keys(j.routes ?? {});
}

/** `BGP.name: value` lines of `birdc show route PREFIX all`. */
function birdAttrs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^[ \t]+BGP\.(\w+):[ \t]*(.*)$/gm)) out[m[1]] = m[2].trim();
  return out;
}

t.test('podbgp reflects between BIRD (non-client) and FRR (client)', { skip }, async (t) => {
  const cleanup = new Cleanup();
  t.teardown(() => cleanup.run());

  const nsBird = await makeNode(cleanup, 'pbr-b');
  const nsPod = await makeNode(cleanup, 'pbr-p');
  const nsFrr = await makeNode(cleanup, 'pbr-f');
  const left = await connect(cleanup, nsBird, nsPod, 0, 'pbr');
  const right = await connect(cleanup, nsPod, nsFrr, 1, 'pbr');
  // FRR reaches BIRD's next hop (unchanged by reflection, RFC 4456 §10) through podbgp's node.
  await ip(['route', 'add', linkNet(0), 'via', right.a.v4], nsFrr);

  const bird = await startBird(cleanup, {
    ns: nsBird,
    config: birdConfig([...BIRD_ROUTES, BIRD_OUTSIDE], left.b.v4, linkNet(1), left.b.v4),
  });
  const frr = await startFrr(cleanup, {
    ns: nsFrr,
    config: [
      'frr defaults traditional',
      'hostname rr-client',
      `router bgp ${ASN}`,
      ` bgp router-id ${RID.frr}`,
      ' no bgp network import-check',
      ' timers bgp 10 30',
      ` neighbor ${right.a.v4} remote-as ${ASN}`,
      ' address-family ipv4 unicast',
      `  network ${FRR_ROUTE}`,
      `  neighbor ${right.a.v4} activate`,
      ' exit-address-family',
      '',
    ].join('\n'),
  });

  const dir = await tempDir(cleanup, 'pbr-');
  const sock = path.join(dir, 'podbgp.sock');
  const config = path.join(dir, 'podbgp.yaml');
  fs.writeFileSync(
    config,
    [
      `node: { name: rr, asn: ${ASN}, routerId: ${RID.podbgp}, ipv4: { address: ${left.b.v4}/29 } }`,
      `pools: [{ cidr: ${POOL}, blockSize: 26, ipipMode: Never }]`,
      'peers:',
      `  - { address: ${left.a.v4}, asn: ${ASN}, holdTime: 30, description: bird-non-client }`,
      `  - { address: ${right.b.v4}, asn: ${ASN}, holdTime: 30, routeReflectorClient: true }`,
      `rib: { clusterId: ${CLUSTER_ID} }`,
      'kubernetes: { enabled: false }',
      `control: { socket: ${sock} }`,
      'metrics: { listen: 127.0.0.1:19281 }',
      'logLevel: info',
      '',
    ].join('\n'),
  );
  const podbgp = spawnProcess(
    cleanup,
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'run', '--config', config],
    { ns: nsPod },
  );
  const diag = (): string =>
    `\npodbgp output:\n${podbgp.output().slice(-4000)}\nbird:\n${bird.process.output().slice(-2000)}`;

  await waitFor(
    async () => {
      if (!podbgp.isRunning()) throw new Error(`podbgp exited${diag()}`);
      const peers = (await request(sock, 'show-peers')) as PeerSummary[];
      return peers.length === 2 && peers.every((p) => p.state === 'Established');
    },
    { timeoutMs: 60_000, what: 'both podbgp sessions Established' },
  ).catch((err: Error) => {
    throw new Error(err.message + diag());
  });
  await bird.waitEstablished('podbgp');
  await frr.waitEstablished(right.a.v4);

  await t.test('BIRD -> FRR: reflected with ORIGINATOR_ID and CLUSTER_LIST', async (t) => {
    const got = await waitFor(
      async () => {
        const have = await frrPrefixes(frr);
        return BIRD_ROUTES.every((p) => have.includes(p)) ? have : undefined;
      },
      { timeoutMs: 30_000, what: `FRR to learn ${BIRD_ROUTES.join(', ')}` },
    ).catch((err: Error) => {
      throw new Error(err.message + diag());
    });
    for (const prefix of BIRD_ROUTES) {
      const paths = await frrPaths(frr, prefix);
      t.equal(paths.length, 1, `${prefix}: one path, from podbgp`);
      const p = paths[0] ?? {};
      // RFC 4456 §8: ORIGINATOR_ID is the BGP Identifier of the route's originator in the AS.
      t.equal(p.originatorId, RID.bird, `${prefix}: ORIGINATOR_ID is BIRD's router id`);
      // RFC 4456 §8: the reflector prepends its CLUSTER_ID to an (empty) CLUSTER_LIST.
      t.same(p.clusterList?.list, [CLUSTER_ID], `${prefix}: CLUSTER_LIST is podbgp's cluster id`);
      // RFC 4456 §10: a reflector does not change the next hop.
      t.equal(p.nexthops?.[0]?.ip, left.a.v4, `${prefix}: next hop still BIRD's address`);
    }
    // podbgp's import filter: nothing outside the pools, even from a non-client.
    t.notOk(got.includes(BIRD_OUTSIDE), `${BIRD_OUTSIDE} (outside every pool) is not reflected`);
  });

  await t.test('FRR (client) -> BIRD (non-client): reflected too', async (t) => {
    const text = await waitFor(
      async () => {
        const out = await bird.cli(`show route ${FRR_ROUTE} all`);
        return out.includes(FRR_ROUTE) ? out : undefined;
      },
      { timeoutMs: 30_000, what: `BIRD to learn ${FRR_ROUTE}` },
    ).catch((err: Error) => {
      throw new Error(err.message + diag());
    });
    const a = birdAttrs(text);
    t.equal(a.originator_id, RID.frr, "ORIGINATOR_ID is FRR's router id");
    t.equal(a.cluster_list, CLUSTER_ID, "CLUSTER_LIST is podbgp's cluster id");
    t.equal(a.next_hop?.split(/\s+/)[0], right.b.v4, "next hop still FRR's address");
    // RFC 4456 §8: a non-client's routes go to clients only; never back to BIRD itself.
    const out = (await request(sock, 'show-rib', { address: left.a.v4, direction: 'out' })) as {
      routes: RouteRow[];
    };
    const sent = out.routes.map((r) => r.prefix);
    t.ok(sent.includes(FRR_ROUTE), `podbgp's Adj-RIB-Out to BIRD holds ${FRR_ROUTE}`);
    for (const p of BIRD_ROUTES) t.notOk(sent.includes(p), `${p} is not sent back to BIRD`);
  });

  await t.test('a withdrawal by BIRD is reflected to FRR', async (t) => {
    const [keep, drop] = BIRD_ROUTES;
    await bird.reconfigure(birdConfig([keep], left.b.v4, linkNet(1), left.b.v4));
    await waitFor(async () => !(await frrPrefixes(frr)).includes(drop), {
      timeoutMs: 30_000,
      what: `FRR to lose ${drop}`,
    }).catch((err: Error) => {
      throw new Error(err.message + diag());
    });
    t.pass(`${drop} withdrawn at FRR`);
    t.ok((await frrPrefixes(frr)).includes(keep), `${keep} still there`);
  });
});
