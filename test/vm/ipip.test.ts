// Real-kernel IPIP datapath, inside Debian's kernel under QEMU (the host kernel has no ipip):
// two nodes on different subnets behind a router that has no pod routes reach each other's pod
// addresses only through tunl0 routes `via NH dev tunl0 onlink`. Does not run podbgp itself.
// No RFC; the route shapes are DESIGN.md's "other segment" shape (Calico's CrossSubnet).
import t from 'tap';
import { hostHasCommand, missingVmPrerequisites, runInVm } from './harness.js';

// Topology (DESIGN.md seed addresses): node A on 192.168.26.0/24, node C on 192.168.30.0/24,
// router R between them. Pod blocks 10.244.1.0/26 (A) and 10.244.3.0/26 (C), unknown to R.
const A = {
  ns: 'pbv-a',
  underlay: '192.168.26.71',
  block: '10.244.1.0/26',
  tunl: '10.244.1.1',
  pod: '10.244.1.10',
};
const C = {
  ns: 'pbv-c',
  underlay: '192.168.30.73',
  block: '10.244.3.0/26',
  tunl: '10.244.3.1',
  pod: '10.244.3.10',
};
const R = { ns: 'pbv-r', toA: '192.168.26.1', toC: '192.168.30.1' };
const UNDERLAY_MTU = 1500;
const IPIP_OVERHEAD = 20; // the outer IPv4 header
const PINGS = 3;

// Runs in the guest as root. Prints "### name" sections the host-side assertions read.
const script = `
set -euo pipefail
section() { echo "### $1"; }
nsx() { ns=$1; shift; ip netns exec "$ns" "$@"; }

modprobe ipip
for ns in ${A.ns} ${R.ns} ${C.ns}; do ip netns add $ns; nsx $ns ip link set lo up; done
ip link add pbv-ar netns ${A.ns} type veth peer name pbv-ra netns ${R.ns}
ip link add pbv-cr netns ${C.ns} type veth peer name pbv-rc netns ${R.ns}
nsx ${R.ns} sysctl -qw net.ipv4.ip_forward=1
nsx ${R.ns} ip addr add ${R.toA}/24 dev pbv-ra
nsx ${R.ns} ip addr add ${R.toC}/24 dev pbv-rc
nsx ${R.ns} ip link set pbv-ra up
nsx ${R.ns} ip link set pbv-rc up

node_setup() { # ns underlay-if underlay-addr gateway tunl-addr pod-addr
  nsx $1 ip link set $2 mtu ${UNDERLAY_MTU} up
  nsx $1 ip addr add $3/24 dev $2
  nsx $1 ip route add default via $4
  # The pod stands in as a dummy interface holding an address from the node's block.
  nsx $1 ip link add pbv-pod type dummy
  nsx $1 ip addr add $6/32 dev pbv-pod
  nsx $1 ip link set pbv-pod up
  # Loading ipip gave every namespace its own tunl0.
  nsx $1 ip link set tunl0 mtu $(( ${UNDERLAY_MTU} - ${IPIP_OVERHEAD} )) up
  nsx $1 ip addr add $5/32 dev tunl0
}
node_setup ${A.ns} pbv-ar ${A.underlay} ${R.toA} ${A.tunl} ${A.pod}
node_setup ${C.ns} pbv-cr ${C.underlay} ${R.toC} ${C.tunl} ${C.pod}

# Control: without tunnel routes the router drops pod traffic (it has no route for it).
section ping-before
nsx ${A.ns} ping -c 1 -W 1 -I ${A.pod} ${C.pod} 2>&1 && echo "rc=0" || echo "rc=$?"

nsx ${A.ns} ip route add ${C.block} via ${C.underlay} dev tunl0 proto bgp onlink
nsx ${C.ns} ip route add ${A.block} via ${A.underlay} dev tunl0 proto bgp onlink

section route-a; nsx ${A.ns} ip -json route show dev tunl0
section route-c; nsx ${C.ns} ip -json route show dev tunl0
section route-r; nsx ${R.ns} ip -json route show
section tunl0-a-before; nsx ${A.ns} ip -json -s link show tunl0
section tunl0-c-before; nsx ${C.ns} ip -json -s link show tunl0

# Watch the router's link to C: it must see only IPIP (protocol 4) between node addresses.
nsx ${R.ns} tcpdump -l -n -i pbv-rc -c $(( 2 * ${PINGS} )) 'ip' >/tmp/pbv-cap.txt 2>/tmp/pbv-cap.err &
cap=$!
for _ in $(seq 1 300); do grep -q listening /tmp/pbv-cap.err && break; sleep 0.1; done

section ping-a-to-c
nsx ${A.ns} ping -c ${PINGS} -i 0.2 -W 5 -I ${A.pod} ${C.pod} 2>&1 && echo "rc=0" || echo "rc=$?"
section ping-c-to-a
nsx ${C.ns} ping -c 1 -W 5 -I ${C.pod} ${A.pod} 2>&1 && echo "rc=0" || echo "rc=$?"

for _ in $(seq 1 100); do kill -0 $cap 2>/dev/null || break; sleep 0.1; done
kill $cap 2>/dev/null || true
wait $cap 2>/dev/null || true
section capture; cat /tmp/pbv-cap.txt
section tunl0-a-after; nsx ${A.ns} ip -json -s link show tunl0
section tunl0-c-after; nsx ${C.ns} ip -json -s link show tunl0
`;

function sections(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  let name: string | undefined;
  for (const line of stdout.split('\n')) {
    const m = /^### (\S+)$/.exec(line);
    if (m) {
      name = m[1];
      out.set(name, '');
    } else if (name !== undefined) {
      out.set(name, `${out.get(name)}${line}\n`);
    }
  }
  return out;
}

interface RouteJson {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  flags?: string[];
}
interface LinkStatsJson {
  ifname: string;
  mtu: number;
  flags: string[];
  link_type: string;
  stats64: { rx: { packets: number }; tx: { packets: number } };
}

function pingRc(text: string | undefined): number {
  const m = /rc=(\d+)\s*$/.exec(text ?? '');
  return m ? Number(m[1]) : -1;
}
function received(text: string | undefined): number {
  // iputils: "3 packets transmitted, 3 received"; busybox: "3 packets received".
  const m = /(\d+) (?:packets )?received/.exec(text ?? '');
  return m ? Number(m[1]) : -1;
}

const missing = missingVmPrerequisites();
for (const [cmd, pkg] of [
  ['tcpdump', 'tcpdump'],
  ['sysctl', 'procps'],
  ['ip', 'iproute2'],
]) {
  if (!hostHasCommand(cmd)) missing.push(`${cmd} (Debian package ${pkg})`);
}
if (missing.length > 0 || process.getuid?.() !== 0) {
  t.fail(
    missing.length > 0
      ? `missing on the host: ${missing.join(', ')}; run scripts/install-deps.sh`
      : 'the VM tests must run as root (CI runs them as root)',
  );
} else {
  t.test('IPIP across a router that knows no pod routes', async (t) => {
    const res = await runInVm({ command: script, timeoutMs: 180_000 });
    t.comment(`boot ${res.bootMs} ms, command ${res.commandMs} ms, total ${res.totalMs} ms`);
    t.equal(res.exitCode, 0, `guest script succeeded\n${res.stderr}`);
    const s = sections(res.stdout);

    t.not(pingRc(s.get('ping-before')), 0, 'control: no pod connectivity without tunl0 routes');

    const routeA = JSON.parse(s.get('route-a') ?? '[]') as RouteJson[];
    t.match(
      routeA,
      [{ dst: C.block, gateway: C.underlay, protocol: 'bgp', flags: ['onlink'] }],
      `A: ${C.block} via ${C.underlay} dev tunl0 proto bgp onlink`,
    );
    const routeC = JSON.parse(s.get('route-c') ?? '[]') as RouteJson[];
    t.match(
      routeC,
      [{ dst: A.block, gateway: A.underlay, protocol: 'bgp', flags: ['onlink'] }],
      `C: ${A.block} via ${A.underlay} dev tunl0 proto bgp onlink`,
    );
    const routeR = JSON.parse(s.get('route-r') ?? '[]') as RouteJson[];
    t.same(
      routeR.filter((r) => r.dst.startsWith('10.244.')),
      [],
      'the router has no route to any pod block',
    );

    t.equal(pingRc(s.get('ping-a-to-c')), 0, 'A pod -> C pod ping succeeds');
    t.equal(received(s.get('ping-a-to-c')), PINGS, `all ${PINGS} replies received`);
    t.equal(pingRc(s.get('ping-c-to-a')), 0, 'C pod -> A pod ping succeeds');

    const before = JSON.parse(s.get('tunl0-a-before') ?? '[]') as LinkStatsJson[];
    const afterA = JSON.parse(s.get('tunl0-a-after') ?? '[]') as LinkStatsJson[];
    const afterC = JSON.parse(s.get('tunl0-c-after') ?? '[]') as LinkStatsJson[];
    t.equal(afterA[0]?.link_type, 'ipip', 'tunl0 is an ipip device');
    t.equal(afterA[0]?.mtu, UNDERLAY_MTU - IPIP_OVERHEAD, 'tunl0 MTU is 20 below the underlay');
    t.ok(afterA[0]?.flags.includes('UP'), 'tunl0 is up');
    const txA = afterA[0].stats64.tx.packets - before[0].stats64.tx.packets;
    const rxA = afterA[0].stats64.rx.packets - before[0].stats64.rx.packets;
    // A sends PINGS requests and one reply through tunl0, and receives as many back.
    t.ok(txA >= PINGS + 1, `A encapsulated its traffic on tunl0 (tx +${txA})`);
    t.ok(rxA >= PINGS + 1, `A decapsulated C's traffic on tunl0 (rx +${rxA})`);
    t.ok(afterC[0].stats64.rx.packets >= PINGS, 'C received the tunnelled requests on tunl0');

    // tcpdump prints "IP OUTER_SRC > OUTER_DST: IP INNER_SRC > INNER_DST: ICMP echo ...".
    const capture = (s.get('capture') ?? '').split('\n').filter((l) => l.includes(' IP '));
    const outer = new RegExp(
      `IP ${A.underlay.replaceAll('.', '\\.')} > ${C.underlay.replaceAll('.', '\\.')}: IP ${A.pod.replaceAll('.', '\\.')} > ${C.pod.replaceAll('.', '\\.')}: ICMP echo request`,
    );
    t.ok(
      capture.some((l) => outer.test(l)),
      `the router saw A's pod echo request inside an IPIP packet between the node addresses:\n${capture.join('\n')}`,
    );
    t.notOk(
      capture.some((l) => /^\S+ IP 10\.244\./.test(l)),
      'no bare pod-addressed packet crossed the router',
    );
  });
}
