#!/bin/bash
# Guest side of test/vm/podbgp-ipip.test.ts: runs `podbgp run` on three node namespaces inside the
# VM and prints "### name" sections (routes, tunl0, pings, captures) for the host to assert.
# Must not assert itself beyond aborting when a wait times out. No RFC; IPIP is RFC 2003.
#
# Topology (addresses come from the PBP_* environment the test passes in):
#   A, B and router R share segment 1 (a bridge in R); C is alone with R on segment 2.
#   R forwards between the two node subnets and knows no pod route.
#   Each node has one pod namespace behind a veth (/32 on the pod, host route in the node).

set -uo pipefail

W=/tmp/pbp
mkdir -p "$W"
NODES=(a b c)
declare -A UL GW BLOCK POD PID LOG RUNS
UL=([a]=$PBP_A_UL [b]=$PBP_B_UL [c]=$PBP_C_UL)
GW=([a]=$PBP_R1 [b]=$PBP_R1 [c]=$PBP_R2)
BLOCK=([a]=$PBP_A_BLOCK [b]=$PBP_B_BLOCK [c]=$PBP_C_BLOCK)
POD=([a]=$PBP_A_POD [b]=$PBP_B_POD [c]=$PBP_C_POD)
read -r -a EXTRA <<<"$PBP_EXTRA_BLOCKS"
R=pbp-r
GATEWAY_LL=169.254.1.1 # the pods' next hop, held by the node side of each pod veth

# Milliseconds from bash's own clock: no process to spawn (each costs tens of ms emulated).
ms() {
  local t=${EPOCHREALTIME/./}
  NOW=$((t / 1000))
}
ms
T0=$NOW
progress() {
  ms
  echo "[$((NOW - T0)) ms] $*" >&2
}
section() { echo "### $1"; }
nsx() {
  local n=$1
  shift
  ip netns exec "$n" "$@"
}

diagnostics() {
  local n
  for n in "${NODES[@]}"; do
    section "diag-routes-$n"
    ip -n pbp-$n route show 2>&1
    section "diag-log-$n"
    [ -n "${LOG[$n]:-}" ] && tail -n 60 "${LOG[$n]}"
  done
}
abort() {
  section abort
  echo "$*"
  progress "ABORT: $*"
  diagnostics
  exit 1
}

# Polls `cmd` until it succeeds; aborts the whole run after `limit` seconds.
wait_for() {
  local limit=$1 what=$2
  shift 2
  local start end
  ms
  start=$NOW
  end=$((start + limit * 1000))
  until "$@" >/dev/null 2>&1; do
    ms
    [ "$NOW" -ge "$end" ] && abort "timed out after ${limit}s waiting for $what"
    sleep 0.25
  done
  ms
  progress "$what ($((NOW - start)) ms)"
}

# route_is NODE PREFIX direct|ipip|absent: the kernel holds our route in that shape.
route_is() {
  local r
  r=$(ip -n "pbp-$1" route show "$2" proto bgp 2>/dev/null)
  case $3 in
  direct) [[ $r == *" dev eth0"* && $r != *onlink* ]] ;;
  ipip) [[ $r == *" dev tunl0"* && $r == *onlink* ]] ;;
  absent) [ -z "$r" ] ;;
  esac
}
# routes_are NODE SHAPE PREFIX...
routes_are() {
  local n=$1 shape=$2 p
  shift 2
  for p in "$@"; do route_is "$n" "$p" "$shape" || return 1; done
}
# The reconcile that follows RIB convergence has run (logged at info when it changed something,
# at debug when not): from then on the kernel holds exactly what the converged RIB wants.
converged() { grep -q '"reason":"converged"' "${LOG[$1]}"; }
cross_b() { routes_are b direct "${BLOCK[a]}" && routes_are b ipip "${BLOCK[c]}"; }
never_a() { routes_are a direct "${BLOCK[b]}" && routes_are a absent "${BLOCK[c]}"; }
never_b() { routes_are b direct "${BLOCK[a]}" && routes_are b absent "${BLOCK[c]}"; }
ping_running() { [ "$(grep -c 'seq=' "$W/ping-restart.txt")" -ge 3 ]; }

# ---- the network --------------------------------------------------------------------------
# `ip -batch` per namespace: every process costs a lot under emulation.
section ipip-module-before-daemons
grep -c '^ipip ' /proc/modules
# IPv4 settings of namespaces are inherited from the initial one: every node forwards.
echo 1 >/proc/sys/net/ipv4/ip_forward
{
  for ns in $R pbp-a pbp-b pbp-c pbp-a-pod pbp-b-pod pbp-c-pod; do echo "netns add $ns"; done
  echo "link add pbp-vc netns pbp-c type veth peer name pbp-rc netns $R"
  for n in a b; do echo "link add pbp-v$n netns pbp-$n type veth peer name pbp-r$n netns $R"; done
  for n in "${NODES[@]}"; do
    echo "link add pbp-pod netns pbp-$n type veth peer name pbp-eth netns pbp-$n-pod"
  done
} | ip -batch - || abort "cannot create the namespaces and veths"
ip -n $R -batch - <<EOF || abort "cannot set up the router"
link set lo up
link add pbp-br1 type bridge
link set pbp-br1 mtu $PBP_MTU up
addr add $PBP_R1/$PBP_PREFIXLEN dev pbp-br1
link set pbp-ra mtu $PBP_MTU master pbp-br1 up
link set pbp-rb mtu $PBP_MTU master pbp-br1 up
link set pbp-rc mtu $PBP_MTU up
addr add $PBP_R2/$PBP_PREFIXLEN dev pbp-rc
EOF
for n in "${NODES[@]}"; do
  ip -n pbp-$n -batch - <<EOF || abort "cannot set up node $n"
link set lo up
link set pbp-v$n name eth0
link set eth0 mtu $PBP_MTU up
addr add ${UL[$n]}/$PBP_PREFIXLEN dev eth0
route add default via ${GW[$n]}
addr add $GATEWAY_LL/32 dev pbp-pod
link set pbp-pod up
route add ${POD[$n]}/32 dev pbp-pod scope link
EOF
  # The pod: a veth with a /32 and a default route via the node (Calico's shape).
  ip -n pbp-$n-pod -batch - <<EOF || abort "cannot set up the pod of node $n"
link set lo up
link set pbp-eth name eth0
addr add ${POD[$n]}/32 dev eth0
link set eth0 up
route add $GATEWAY_LL dev eth0 scope link
route add default via $GATEWAY_LL dev eth0
EOF
done
progress "network ready"

# ---- daemons ------------------------------------------------------------------------------
write_config() { # NODE MODE BLOCK...
  local n=$1 mode=$2 p
  shift 2
  {
    echo "node: { name: node-$n, asn: $PBP_ASN, routerId: ${UL[$n]}, ipv4: { address: ${UL[$n]}/$PBP_PREFIXLEN } }"
    echo "pools: [{ cidr: $PBP_POOL, blockSize: 26, ipipMode: $mode }]"
    echo "staticBlocks: [$(
      IFS=,
      echo "$*"
    )]"
    echo "peers:"
    for p in "${NODES[@]}"; do
      [ "$p" = "$n" ] && continue
      echo "  - { address: ${UL[$p]}, asn: $PBP_ASN, holdTime: $PBP_HOLD, connectRetryTime: 1 }"
    done
    echo "kubernetes: { enabled: false }"
    echo "control: { socket: $W/$n.sock }"
    echo "metrics: { listen: 127.0.0.1:19179 }"
  } >"$W/$n.yaml.tmp"
  mv "$W/$n.yaml.tmp" "$W/$n.yaml"
}
start_daemon() {
  local n=$1
  RUNS[$n]=$((${RUNS[$n]:-0} + 1))
  LOG[$n]=$W/$n.${RUNS[$n]}.log
  ip netns exec pbp-$n node "$PBP_CLI" run --config "$W/$n.yaml" --no-pretty --log-level debug \
    >"${LOG[$n]}" 2>&1 &
  PID[$n]=$!
}
stop_daemon() { # prints the exit status
  local n=$1 rc
  kill -TERM "${PID[$n]}" 2>/dev/null
  wait "${PID[$n]}"
  rc=$?
  echo "$rc"
}
restart_all() { # MODE
  local n
  for n in "${NODES[@]}"; do kill -TERM "${PID[$n]}" 2>/dev/null; done
  for n in "${NODES[@]}"; do wait "${PID[$n]}"; done
  for n in "${NODES[@]}"; do write_config $n "$1" "${BLOCK[$n]}"; done
  for n in "${NODES[@]}"; do start_daemon $n; done
}
show_json() { # NODE WHAT... (podbgp show WHAT --json)
  local n=$1
  shift
  ip netns exec pbp-$n node "$PBP_CLI" show "$@" --json --socket "$W/$n.sock" 2>&1
}

# ---- helpers for the assertions ------------------------------------------------------------
dump_routes() { # TAG
  local n
  for n in "${NODES[@]}"; do
    section "routes-$1-$n"
    ip -n pbp-$n -json route show proto bgp
  done
}
counters() { # TAG: tunl0 statistics on every node
  local n
  for n in "${NODES[@]}"; do
    section "tunl0-stats-$1-$n"
    ip -n pbp-$n -s -json link show tunl0
  done
}
pingpod() { # TAG FROM TO COUNT DEADLINE
  section "ping-$1-$2-$3"
  nsx pbp-$2-pod ping -c "$4" -i 0.2 -W 2 -w "$5" "${POD[$3]}" 2>&1 && echo "rc=0" || echo "rc=$?"
}
ping_matrix() { # TAG COUNT DEADLINE; tunl0 counters between the pairs
  counters "$1-0"
  pingpod "$1" a b "$2" "$3"
  pingpod "$1" b a "$2" "$3"
  counters "$1-ab"
  pingpod "$1" a c "$2" "$3"
  pingpod "$1" c a "$2" "$3"
  counters "$1-ac"
  pingpod "$1" b c "$2" "$3"
  pingpod "$1" c b "$2" "$3"
  counters "$1-bc"
}

# ==== CrossSubnet ============================================================================
for n in "${NODES[@]}"; do write_config $n CrossSubnet "${BLOCK[$n]}"; done
section started-ms
ms
echo "$NOW"
for n in "${NODES[@]}"; do start_daemon $n; done
wait_for 90 "cross: A has B direct, C via tunl0" routes_are a direct "${BLOCK[b]}"
wait_for 60 "cross: A has C via tunl0" routes_are a ipip "${BLOCK[c]}"
wait_for 60 "cross: B has A direct, C via tunl0" cross_b
wait_for 60 "cross: C has A and B via tunl0" routes_are c ipip "${BLOCK[a]}" "${BLOCK[b]}"
section routes-ready-ms
ms
echo "$NOW"
dump_routes cross
for n in "${NODES[@]}"; do
  section "tunl0-$n"
  ip -n pbp-$n -d -json addr show dev tunl0
  section "eth0-$n"
  ip -n pbp-$n -json link show dev eth0
done
# `show routes` runs while the pings do: node startup in the guest takes seconds.
show_json a routes >"$W/show-cross-a.json" &
show_cross=$!
ping_matrix cross 3 6
wait $show_cross
section show-routes-cross-a
cat "$W/show-cross-a.json"
progress "cross: pings done"

# ---- UPDATE -> kernel latency: C announces more blocks (SIGHUP), A installs them on tunl0.
nsx pbp-a tcpdump -tttt -n -v -l -i eth0 "tcp port 179 and src host ${UL[c]}" \
  >"$W/bgp-a.txt" 2>"$W/bgp-a.err" &
cap=$!
ip -n pbp-a -ts monitor route >"$W/mon-lat-a.txt" 2>&1 &
mon=$!
wait_for 30 "tcpdump listening" grep -q listening "$W/bgp-a.err"
blocks=("${BLOCK[c]}")
for x in "${EXTRA[@]}"; do
  blocks+=("$x")
  write_config c CrossSubnet "${blocks[@]}"
  section "sighup-$x"
  date '+%Y-%m-%dT%H:%M:%S.%6N'
  kill -HUP "${PID[c]}"
  wait_for 30 "latency: A has $x via tunl0" route_is a "$x" ipip
done
# And withdraw them again.
write_config c CrossSubnet "${BLOCK[c]}"
section sighup-withdraw
date '+%Y-%m-%dT%H:%M:%S.%6N'
kill -HUP "${PID[c]}"
wait_for 30 "latency: A removed the extra blocks" routes_are a absent "${EXTRA[@]}"
kill "$cap" "$mon" 2>/dev/null
wait "$cap" "$mon" 2>/dev/null
section bgp-capture-a
cat "$W/bgp-a.txt"
section monitor-latency-a
cat "$W/mon-lat-a.txt"

# ---- restart keeps forwarding: A's daemon restarts while A's pod pings C's pod.
for n in "${NODES[@]}"; do
  ip -n pbp-$n monitor route >"$W/mon-restart-$n.txt" 2>&1 &
  eval "mon_$n=\$!"
done
# Started directly (no function, no subshell), so that SIGINT reaches ping itself.
ip netns exec pbp-a-pod ping -i 0.2 -W 2 "${POD[c]}" >"$W/ping-restart.txt" 2>&1 &
pinger=$!
wait_for 30 "restart: ping running" ping_running
section restart-stop-rc
stop_daemon a
section restart-routes-while-down-a
ip -n pbp-a -json route show proto bgp
start_daemon a
wait_for 90 "restart: A converged again" converged a
# Past the converged reconcile; give a reply in flight time to come back.
sleep 0.5
kill -INT "$pinger"
for _ in $(seq 50); do kill -0 "$pinger" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$pinger" 2>/dev/null
wait "$pinger"
kill "$mon_a" "$mon_b" "$mon_c" 2>/dev/null
wait "$mon_a" "$mon_b" "$mon_c" 2>/dev/null
section restart-ping
cat "$W/ping-restart.txt"
for n in "${NODES[@]}"; do
  section "restart-monitor-$n"
  cat "$W/mon-restart-$n.txt"
done
section restart-log-a
grep -E 'adopted|converged' "${LOG[a]}"

# ==== Always =================================================================================
restart_all Always
wait_for 90 "always: A has B and C via tunl0" routes_are a ipip "${BLOCK[b]}" "${BLOCK[c]}"
wait_for 60 "always: B has A and C via tunl0" routes_are b ipip "${BLOCK[a]}" "${BLOCK[c]}"
wait_for 60 "always: C has A and B via tunl0" routes_are c ipip "${BLOCK[a]}" "${BLOCK[b]}"
# C's routes (and A's to C) keep their shape across the switch: they count only once the RIB
# converged and the reconcile would have deleted any route BGP no longer carries.
for n in "${NODES[@]}"; do wait_for 60 "always: $n converged" converged $n; done
dump_routes always
ping_matrix always 3 6

# ==== Never ==================================================================================
restart_all Never
for n in "${NODES[@]}"; do wait_for 90 "never: $n converged" converged $n; done
wait_for 60 "never: A has B direct, no C" never_a
wait_for 60 "never: B has A direct, no C" never_b
wait_for 60 "never: C has neither A nor B" routes_are c absent "${BLOCK[a]}" "${BLOCK[b]}"
dump_routes never
for n in a c; do
  show_json $n routes --all >"$W/show-never-$n.json" &
  eval "show_$n=\$!"
done
pingpod never a b 2 5
pingpod never b a 2 5
# The pings that must fail run side by side: each waits out its deadline.
pingers=()
for pair in a-c c-a b-c c-b; do
  pingpod never "${pair%-*}" "${pair#*-}" 1 2 >"$W/ping-never-$pair.txt" &
  pingers+=($!)
done
wait "${pingers[@]}"
for pair in a-c c-a b-c c-b; do cat "$W/ping-never-$pair.txt"; done
for n in a c; do
  eval "wait \$show_$n"
  section "show-routes-never-$n"
  cat "$W/show-never-$n.json"
done

section final-stop-rc
for n in "${NODES[@]}"; do stop_daemon $n; done
if [ -n "${PBP_DEBUG:-}" ]; then
  for f in "$W"/*.log; do
    section "debug-$(basename "$f")"
    cut -c1-300 "$f"
  done
fi
section log-errors
cat "$W"/*.log | grep -E '"level":(50|60)' | tail -n 40
progress "done"
