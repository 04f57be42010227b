#!/usr/bin/env bash
# Builds a two-node flannel-style VXLAN overlay in network namespaces (prefix pw-vx-), programs it the way flannel's
# vxlan backend programs Linux (flannel.1 with nolearning and dstport 8472, a /32 lease address, per remote node a
# permanent neighbour entry, an FDB entry and an onlink route), sends ping and TCP across it, captures the underlay
# and the inside with tcpdump -w, and records the outputs that tools/kernel-lab/VXLAN-NOTES.md quotes.
# It also turns the captured frames into test/fixtures/vxlan/*.json ({name, hex, note} entries).
#
# Topology:   p1 (10.244.1.2) -- cni0 [n1] flannel.1 -- eth0 192.168.50.11 ---+
#                                                                           ul: br0
#             p2 (10.244.2.2) -- cni0 [n2] flannel.1 -- eth0 192.168.50.12 ---+
#
# Fixed MAC addresses (flannel lets the kernel pick random ones) keep the fixtures stable. Transmit offloads are
# switched off on the veths so that captures carry final checksums. Requires root, iproute2, ethtool, tcpdump,
# tshark, ping and python3. Nothing is added to the root namespace; every namespace is deleted on exit.
# Usage: sudo tools/capture-vxlan-notes.sh [raw-output-dir] [fixture-dir]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RAW="${1:-/tmp/pw-vx-out}"
FIX="${2:-$HERE/../test/fixtures/vxlan}"
P="pw-vx-$$-"
NSES=(ul n1 n2 p1 p2)

if [[ $(id -u) -ne 0 ]]; then
  echo "capture-vxlan-notes: needs root (network namespaces, tcpdump)" >&2
  exit 1
fi
for tool in ip bridge ethtool tcpdump tshark python3 ping timeout; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "capture-vxlan-notes: '$tool' is missing (apt-get install iproute2 ethtool tcpdump tshark iputils-ping)" >&2
    exit 1
  fi
done

BGPIDS=()
cleanup() {
  for pid in "${BGPIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for n in "${NSES[@]}"; do ip netns del "$P$n" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

mkdir -p "$RAW" "$FIX"
rm -f "$RAW"/*.pcap "$RAW"/*.txt
in_ns() {
  local n="$1"
  shift
  ip netns exec "$P$n" "$@"
}
# log NAME CMD...: run in the current shell, append "$ CMD" and its output (stdout+stderr) to RAW/NAME.txt.
log() {
  local f="$RAW/$1.txt"
  shift
  echo "\$ $*" | sed "s/$P/pw-vx-ID-/g" >>"$f"
  { "$@" 2>&1 || echo "[exit $?]"; } | sed "s/$P/pw-vx-ID-/g" >>"$f"
  echo >>"$f"
}

for n in "${NSES[@]}"; do
  ip netns add "$P$n"
  in_ns "$n" ip link set lo up
  # No IPv6: router solicitations and MLD reports would interleave with the captures.
  in_ns "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done

# Underlay: a bridge in ul, each node's eth0 a veth into it.
in_ns ul ip link add br0 type bridge
in_ns ul ip link set br0 up
for i in 1 2; do
  ip -n "${P}ul" link add "u$i" address "02:50:00:00:00:f$i" type veth peer name eth0 address "02:50:00:00:00:0$i" netns "${P}n$i"
  in_ns ul ethtool -K "u$i" tx off tso off gso off gro off >/dev/null
  in_ns "n$i" ethtool -K eth0 tx off tso off gso off gro off >/dev/null
  in_ns ul ip link set "u$i" master br0
  in_ns ul ip link set "u$i" up
done

# Nodes and pods (what the CNI bridge plugin does with flannel's subnet.env: cni0 and pod MTU = FLANNEL_MTU 1450).
for i in 1 2; do
  N="n$i"
  in_ns "$N" ip addr add "192.168.50.1$i/24" dev eth0
  in_ns "$N" ip link set eth0 up
  in_ns "$N" sysctl -qw net.ipv4.ip_forward=1
  in_ns "$N" ip link add cni0 address "02:44:0$i:00:00:01" type bridge
  in_ns "$N" ip addr add "10.244.$i.1/24" dev cni0
  in_ns "$N" ip link set cni0 mtu 1450
  ip -n "$P$N" link add "vethp$i" address "02:44:0$i:00:00:fe" mtu 1450 type veth peer name eth0 address "02:44:0$i:00:00:02" mtu 1450 netns "${P}p$i"
  in_ns "$N" ethtool -K "vethp$i" tx off tso off gso off gro off >/dev/null
  in_ns "p$i" ethtool -K eth0 tx off tso off gso off gro off >/dev/null
  in_ns "$N" ip link set "vethp$i" master cni0
  in_ns "$N" ip link set "vethp$i" up
  in_ns "$N" ip link set cni0 up
  in_ns "p$i" ip addr add "10.244.$i.2/24" dev eth0
  in_ns "p$i" ip link set eth0 up
  in_ns "p$i" ip route add default via "10.244.$i.1"
done

# flannel.1 as flannel's vxlan backend creates it (vxlan.go newVXLANDevice: VNI 1, local = node's public IP,
# dev = the underlay interface, learning off, port 8472; then MTU = underlay MTU - 50 and the lease's network
# address as a /32).
SETUP="$RAW/setup.txt"
: >"$SETUP"
for i in 1 2; do
  N="n$i"
  for c in \
    "ip link add flannel.1 address 0a:f1:00:00:00:0$i type vxlan id 1 local 192.168.50.1$i dev eth0 nolearning dstport 8472" \
    "ip link set flannel.1 mtu 1450" \
    "ip addr add 10.244.$i.0/32 dev flannel.1" \
    "ip link set flannel.1 up"; do
    echo "ip netns exec $N $c" >>"$SETUP"
    # shellcheck disable=SC2086
    in_ns "$N" $c
  done
  in_ns "$N" ethtool -K flannel.1 tx off tso off gso off gro off >/dev/null
done
# Per remote node, as flannel's handleSubnetEvents adds them for a lease with VtepMAC in its backend data.
for i in 1 2; do
  N="n$i"
  o=$((3 - i))
  for c in \
    "ip neigh replace 10.244.$o.0 lladdr 0a:f1:00:00:00:0$o dev flannel.1 nud permanent" \
    "bridge fdb replace 0a:f1:00:00:00:0$o dev flannel.1 dst 192.168.50.1$o self permanent" \
    "ip route replace 10.244.$o.0/24 via 10.244.$o.0 dev flannel.1 onlink"; do
    echo "ip netns exec $N $c" >>"$SETUP"
    # shellcheck disable=SC2086
    in_ns "$N" $c
  done
done

log state in_ns n1 ip -d link show flannel.1
log state in_ns n1 ip -d addr show flannel.1
log state in_ns n1 ip route
log state in_ns n1 ip neigh show dev flannel.1
log state in_ns n1 bridge fdb show dev flannel.1
log state in_ns n1 ip -br link
log state in_ns n1 ip route get 10.244.2.2
log state in_ns n1 sysctl net.ipv4.ip_local_port_range

# cap NAME NS IFACE: start tcpdump -w RAW/NAME.pcap in NS on IFACE (waits until it listens).
CAPS=()
cap() {
  local err="$RAW/$1.tcpdump.err"
  in_ns "$2" timeout 60 tcpdump -n -i "$3" -U --immediate-mode -s 0 -w "$RAW/$1.pcap" >/dev/null 2>"$err" &
  BGPIDS+=("$!")
  CAPS+=("$!")
  for _ in $(seq 1 50); do
    grep -q listening "$err" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "tcpdump did not start for $1" >&2
  exit 1
}
stopcaps() {
  sleep 0.4
  for pid in "${CAPS[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  for pid in "${CAPS[@]}"; do wait "$pid" 2>/dev/null || true; done
  CAPS=()
}

# TCP echo server in p2 (port 8080) that answers every connection with what it received.
cat >"$RAW/server.py" <<'EOF'
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(8); s.settimeout(60)
for _ in range(int(sys.argv[2])):
    c, a = s.accept(); d = c.recv(100); c.sendall(d); c.close()
EOF
cat >"$RAW/client.py" <<'EOF'
import socket, sys
for i in range(int(sys.argv[3])):
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
    c.sendall(b"hello %d" % i); print("got", c.recv(100), "local port", c.getsockname()[1]); c.close()
EOF
PY="$(command -v python3)"
[[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3
in_ns p2 timeout 60 "$PY" "$RAW/server.py" 8080 5 >"$RAW/server.log" 2>&1 &
BGPIDS+=("$!")
for _ in $(seq 1 100); do
  in_ns p2 ss -Hltn 'sport = :8080' | grep -q 8080 && break
  sleep 0.1
done

# 1. Pod to pod ping (56 data bytes) and node to remote pod ping.
cap ping-underlay ul u1
cap ping-n2-flannel n2 flannel.1
cap ping-p2 p2 eth0
log ping in_ns p1 timeout 10 ping -c 2 -i 0.3 10.244.2.2
log ping in_ns n1 timeout 10 ping -c 1 10.244.2.2
stopcaps

# 2. TCP: three connections pod to pod, one node to pod.
cap tcp-underlay ul u1
cap tcp-p2 p2 eth0
log tcp in_ns p1 timeout 20 "$PY" "$RAW/client.py" 10.244.2.2 8080 3
log tcp in_ns n1 timeout 20 "$PY" "$RAW/client.py" 10.244.2.2 8080 1
stopcaps

# 3. MTU: pod MTU 1450 (as flannel's CNI config sets it), then a pod whose MTU was left at 1500.
cap mtu-underlay ul u1
cap mtu-p1 p1 eth0
log mtu in_ns p1 timeout 10 ping -c 1 -s 1422 -M do 10.244.2.2
log mtu in_ns p1 timeout 10 ping -c 1 -s 1423 -M do 10.244.2.2
log mtu in_ns n1 timeout 10 ping -c 1 -s 1423 -M do 10.244.2.2
in_ns p1 ip link set eth0 mtu 1500
in_ns n1 ip link set vethp1 mtu 1500
log mtu in_ns p1 timeout 10 ping -c 1 -s 1472 -M do 10.244.2.2
log mtu in_ns p1 ip route get 10.244.2.2
log mtu in_ns p1 timeout 10 ping -c 1 -s 1472 -M do 10.244.2.2
log mtu in_ns p1 ip route flush cache
log mtu in_ns p1 timeout 10 ping -c 1 -s 1472 -M dont 10.244.2.2
stopcaps
in_ns p1 ip link set eth0 mtu 1450
in_ns n1 ip link set vethp1 mtu 1450

# 4. Wrong VNI on the receiver, then wrong port.
log wrong in_ns n2 ip -s link show flannel.1
log wrong in_ns n2 nstat -az UdpInDatagrams UdpNoPorts UdpInErrors IcmpOutDestUnreachs
in_ns n2 ip link del flannel.1
in_ns n2 ip link add flannel.1 address 0a:f1:00:00:00:02 type vxlan id 2 local 192.168.50.12 dev eth0 nolearning dstport 8472
in_ns n2 ip link set flannel.1 mtu 1450
in_ns n2 ip addr add 10.244.2.0/32 dev flannel.1
in_ns n2 ip link set flannel.1 up
cap wrongvni-underlay ul u1
log wrong in_ns p1 timeout 10 ping -c 3 -i 0.3 -W 1 10.244.2.2
stopcaps
log wrong in_ns n2 ip -s link show flannel.1
log wrong in_ns n1 ip -s link show flannel.1
log wrong in_ns n2 nstat -az UdpInDatagrams UdpNoPorts UdpInErrors IcmpOutDestUnreachs
in_ns n2 ip link del flannel.1
in_ns n2 ip link add flannel.1 address 0a:f1:00:00:00:02 type vxlan id 1 local 192.168.50.12 dev eth0 nolearning dstport 4789
in_ns n2 ip link set flannel.1 mtu 1450
in_ns n2 ip addr add 10.244.2.0/32 dev flannel.1
in_ns n2 ip link set flannel.1 up
cap wrongport-underlay ul u1
log wrong in_ns p1 timeout 10 ping -c 3 -i 0.3 -W 1 10.244.2.2
stopcaps
log wrong in_ns n2 ip -s link show flannel.1
log wrong in_ns n1 ip -s link show flannel.1
log wrong in_ns n2 nstat -az UdpInDatagrams UdpNoPorts UdpInErrors IcmpOutDestUnreachs
log wrong in_ns n1 nstat -az UdpInDatagrams UdpNoPorts UdpInErrors IcmpInDestUnreachs

# Decodes for the notes.
for f in "$RAW"/*.pcap; do
  b="${f%.pcap}"
  tcpdump -n -e -v -r "$f" >"$b.tcpdump.txt" 2>/dev/null || true
  tshark -r "$f" -d udp.port==8472,vxlan >"$b.tshark.txt" 2>/dev/null || true
  tshark -r "$f" -d udp.port==8472,vxlan -V >"$b.tshark-V.txt" 2>/dev/null || true
done
{
  echo "uname -r: $(uname -r)"
  echo "iproute2: $(ip -V)"
  echo "tcpdump: $(tcpdump --version 2>&1 | head -1)"
  echo "tshark: $(tshark -v 2>/dev/null | head -1)"
} >"$FIX/CAPTURED-ON.txt"

# Fixtures: every frame of the chosen captures as hex, with tshark's one-line summary as the note.
python3 - "$RAW" "$FIX" <<'EOF'
import json, struct, subprocess, sys
raw, fix = sys.argv[1], sys.argv[2]
def frames(path):
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    e = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    link = struct.unpack(e + "I", data[20:24])[0]
    assert link == 1, f"{path}: link type {link}, expected Ethernet"
    off, out = 24, []
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(e + "IIII", data[off:off + 16])
        out.append(data[off + 16: off + 16 + incl]); off += 16 + incl
    return out
def summaries(path):
    r = subprocess.run(["tshark", "-r", path, "-d", "udp.port==8472,vxlan", "-T", "fields", "-e", "_ws.col.Info",
                        "-e", "_ws.col.Protocol"], capture_output=True, text=True)
    return [l for l in r.stdout.splitlines()]
sets = {
    "ping-underlay": "underlay (ul side of n1's eth0): pod 10.244.1.2 -> pod 10.244.2.2 ping, then node n1 -> pod",
    "ping-p2": "inside the destination pod p2 (eth0): the same pings after decapsulation",
    "tcp-underlay": "underlay: three TCP connections pod->pod to 10.244.2.2:8080, then one node n1 -> pod",
    "mtu-underlay": "underlay: DF pings at and above the overlay MTU, then a non-DF 1500-byte ping from a pod with MTU 1500",
    "mtu-p1": "inside the source pod p1: the same, including ICMP frag-needed from the node",
    "wrongvni-underlay": "underlay: n2's flannel.1 has VNI 2; VNI 1 packets are dropped silently",
    "wrongport-underlay": "underlay: n2's flannel.1 listens on 4789; packets to 8472 get ICMP port unreachable",
}
for name, note in sets.items():
    pcap = f"{raw}/{name}.pcap"
    fr = frames(pcap); info = summaries(pcap)
    out = []
    for i, f in enumerate(fr):
        s = info[i] if i < len(info) else ""
        out.append({"name": f"{name}-{i + 1:02d}", "hex": f.hex(), "note": f"{note}. tshark: {s}"})
    json.dump(out, open(f"{fix}/{name}.json", "w"), indent=1)
    open(f"{fix}/{name}.json", "a").write("\n")
    print(name, len(out), "frames")
EOF
echo "capture-vxlan-notes: raw outputs in $RAW, fixtures in $FIX"
