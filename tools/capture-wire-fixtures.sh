#!/usr/bin/env bash
# Captures the wire-format fixtures in test/fixtures/wire/ from real Linux.
#
# Builds a small routed lab in network namespaces (prefix pw-wire-), a VXLAN pair over a veth underlay and an
# IPv6 pair, generates traffic with ping and python3 sockets, records each scenario with tcpdump -w, and turns
# every captured frame into a JSON entry: the frame as hex, what `tcpdump -n -t -S` printed for it and the field
# values tshark dissected (tshark -T json). Those three together let the wire tests check parsing, emitting,
# checksums and the one-line description against real tools.
#
# Requires root, iproute2, ethtool (transmit checksum offload must be off, or veth captures show partial
# checksums), iptables, tcpdump, tshark and python3. Only namespaces this script creates are touched; nothing is
# added to the root namespace. Usage: sudo tools/capture-wire-fixtures.sh [output-dir]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${1:-$HERE/../test/fixtures/wire}"
P=pw-wire-
NSES=(a r b c v1 v2 6a 6b)

if [[ $(id -u) -ne 0 ]]; then
  echo "capture-wire-fixtures: needs root (network namespaces, tcpdump)" >&2
  exit 1
fi
for tool in ip ethtool iptables tcpdump tshark python3 ping timeout; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "capture-wire-fixtures: '$tool' is missing (apt-get install iproute2 ethtool iptables tcpdump tshark iputils-ping)" >&2
    exit 1
  fi
done

WORK="$(mktemp -d /tmp/pw-wire-capture.XXXXXX)"
TCPDUMP_PID=""
SERVER_PIDS=()

cleanup() {
  set +e
  if [[ -n "$TCPDUMP_PID" ]]; then kill -INT "$TCPDUMP_PID" 2>/dev/null; wait "$TCPDUMP_PID" 2>/dev/null; fi
  for pid in "${SERVER_PIDS[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  for n in "${NSES[@]}"; do ip netns del "$P$n" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

in_ns() {
  local n="$1"
  shift
  ip netns exec "$P$n" "$@"
}

for n in "${NSES[@]}"; do ip netns del "$P$n" 2>/dev/null || true; done
for n in "${NSES[@]}"; do
  ip netns add "$P$n"
  in_ns "$n" ip link set lo up
  if [[ $n != 6a && $n != 6b ]]; then
    # No IPv6 on the IPv4 links: router solicitations and MLD reports would interleave with the scenarios.
    in_ns "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  fi
done

# veth NS1 DEV1 MAC1 NS2 DEV2 MAC2: a veth pair created directly inside the two namespaces.
veth() {
  ip -n "$P$1" link add "$2" address "$3" type veth peer name "$5" address "$6" netns "$P$4"
  in_ns "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null
  in_ns "$4" ethtool -K "$5" tx off tso off gso off gro off >/dev/null
}

# Routed lab: a -- r -- b, and r -- c over a link whose MTU is 1000 (for "fragmentation needed").
veth a eth0 02:77:01:00:00:01 r eth0 02:77:01:00:00:fe
veth r eth1 02:77:02:00:00:fe b eth0 02:77:02:00:00:01
veth r eth2 02:77:03:00:00:fe c eth0 02:77:03:00:00:01
in_ns a ip addr add 10.77.1.1/24 dev eth0
in_ns r ip addr add 10.77.1.254/24 dev eth0
in_ns r ip addr add 10.77.2.254/24 dev eth1
in_ns r ip addr add 10.77.3.254/24 dev eth2
in_ns b ip addr add 10.77.2.1/24 dev eth0
in_ns c ip addr add 10.77.3.1/24 dev eth0
in_ns r ip link set eth2 mtu 1000
in_ns c ip link set eth0 mtu 1000
for d in a:eth0 r:eth0 r:eth1 r:eth2 b:eth0 c:eth0; do in_ns "${d%%:*}" ip link set "${d#*:}" up; done
in_ns a ip route add default via 10.77.1.254
in_ns b ip route add default via 10.77.2.254
in_ns c ip route add default via 10.77.3.254
in_ns r sysctl -qw net.ipv4.ip_forward=1
# ICMP rate limits stay at the kernel defaults (burst of 6 per peer): the error scenarios send fewer than that.
# Setting icmp_ratelimit=0 would starve ip_error()'s own per-peer bucket and hide "net unreachable".
in_ns r iptables -A FORWARD -p udp --dport 6666 -j REJECT --reject-with icmp-admin-prohibited

# VXLAN: v1 -- v2 over an underlay veth; vx0 uses the Linux default port 8472 without outer UDP checksum
# (as flannel sets it up), vx1 uses the IANA port 4789 with outer checksums on.
veth v1 u0 02:77:09:00:00:01 v2 u0 02:77:09:00:00:02
in_ns v1 ip addr add 10.77.9.1/24 dev u0
in_ns v2 ip addr add 10.77.9.2/24 dev u0
for i in 1 2; do
  o=$((3 - i))
  in_ns "v$i" ip link set u0 up
  in_ns "v$i" ip link add vx0 address "02:78:00:00:00:0$i" type vxlan id 42 dstport 8472 \
    local "10.77.9.$i" remote "10.77.9.$o" dev u0 noudpcsum
  in_ns "v$i" ip link add vx1 address "02:78:01:00:00:0$i" type vxlan id 4242 dstport 4789 \
    local "10.77.9.$i" remote "10.77.9.$o" dev u0 udpcsum
  for d in vx0 vx1; do in_ns "v$i" ethtool -K "$d" tx off tso off gso off gro off >/dev/null; done
  in_ns "v$i" ip addr add "10.78.0.$i/24" dev vx0
  in_ns "v$i" ip addr add "10.78.1.$i/24" dev vx1
  in_ns "v$i" ip link set vx0 up
  in_ns "v$i" ip link set vx1 up
done

# IPv6 pair, only so that the fixtures hold real IPv6 frames (the emulator does not model IPv6).
veth 6a eth0 02:77:06:00:00:01 6b eth0 02:77:06:00:00:02
in_ns 6a ip -6 addr add fd77::1/64 dev eth0 nodad
in_ns 6b ip -6 addr add fd77::2/64 dev eth0 nodad
in_ns 6a ip link set eth0 up
in_ns 6b ip link set eth0 up

# Ports are chosen so that tcpdump does not decode an application protocol on them (8080 would print "HTTP").
# Servers in b: a TCP server that answers one line per connection and a UDP one that answers "pong".
cat >"$WORK/servers.py" <<'PY'
import socket, sys, threading
def tcp():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("10.77.2.1", 40080)); s.listen(4); s.settimeout(60)
    for _ in range(2):
        c, _ = s.accept(); c.settimeout(10)
        c.recv(100); c.sendall(b"world\n")
        while c.recv(100):
            pass
        c.close()
def udp():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("10.77.2.1", 7777)); u.settimeout(60)
    for _ in range(2):
        _, peer = u.recvfrom(65535); u.sendto(b"pong", peer)
threading.Thread(target=tcp, daemon=True).start()
udp_thread = threading.Thread(target=udp, daemon=True); udp_thread.start()
print("ready", flush=True)
udp_thread.join(60)
threading.Event().wait(30)
PY
ip netns exec "${P}b" timeout 120 python3 "$WORK/servers.py" >"$WORK/servers.log" 2>&1 &
SERVER_PIDS+=($!)
for _ in $(seq 50); do grep -q ready "$WORK/servers.log" 2>/dev/null && break; sleep 0.1; done

cat >"$WORK/client.py" <<'PY'
import socket, sys, time
what = sys.argv[1]
if what == "tcp":
    s = socket.create_connection(("10.77.2.1", 40080), timeout=5)
    time.sleep(0.2); s.sendall(b"hello\n"); s.recv(100); time.sleep(0.2); s.close(); time.sleep(0.5)
elif what == "tcp-rst":
    try:
        socket.create_connection(("10.77.2.1", 8081), timeout=5)
    except ConnectionRefusedError:
        pass
elif what == "udp":
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(3)
    u.bind(("10.77.1.1", 5000))
    u.sendto(b"hello", ("10.77.2.1", 7777)); u.recvfrom(100)
    # 3000 bytes without DF: leaves a as three IPv4 fragments, answered once reassembled.
    u.setsockopt(socket.IPPROTO_IP, 10, 0)  # IP_MTU_DISCOVER = IP_PMTUDISC_DONT
    u.sendto(bytes(range(256)) * 11 + bytes(184), ("10.77.2.1", 7777)); u.recvfrom(100)
elif what == "unreach":
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("10.77.1.1", 5001))
    u.sendto(b"hello", ("10.77.2.1", 9999)); time.sleep(0.3)
    u.sendto(bytes((i * 7) & 255 for i in range(1000)), ("10.77.2.1", 9999)); time.sleep(0.3)
    u.sendto(b"filtered", ("10.77.2.1", 6666)); time.sleep(0.3)
    u.sendto(b"nowhere", ("10.77.200.1", 9999)); time.sleep(0.3)
elif what == "host-unreach":
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("10.77.1.1", 5002))
    u.sendto(b"nobody", ("10.77.2.99", 9999)); time.sleep(4)
elif what == "vxlan-udp":
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("10.78.1.1", 5003))
    u.sendto(b"over vxlan", ("10.78.1.2", 9999)); time.sleep(0.3)
PY

# capture NAME NS DEV NOTE TCPDUMP_DECODE_OPTS -- COMMAND...: records COMMAND's traffic on NS/DEV into NAME.pcap.
capture() {
  local name="$1" ns="$2" dev="$3" note="$4" decode="$5"
  shift 6
  echo "capture-wire-fixtures: $name (${SECONDS}s)" >&2
  # Started without the in_ns wrapper so that $! is the process itself (timeout passes the SIGINT on to tcpdump).
  ip netns exec "$P$ns" timeout -s INT 60 tcpdump --immediate-mode -i "$dev" -U -n -s 0 -w "$WORK/$name.pcap" >"$WORK/$name.log" 2>&1 &
  TCPDUMP_PID=$!
  for _ in $(seq 50); do grep -q listening "$WORK/$name.log" 2>/dev/null && break; sleep 0.1; done
  "$@" || true
  sleep 0.5
  kill -INT "$TCPDUMP_PID" 2>/dev/null || true
  wait "$TCPDUMP_PID" 2>/dev/null || true
  TCPDUMP_PID=""
  printf '%s\t%s\t%s\n' "$name" "$note" "$decode" >>"$WORK/captures.tsv"
}

: >"$WORK/captures.tsv"
capture ping a eth0 "ping 10.77.1.1 -> 10.77.2.1 across router r, captured on a's eth0 (first contact: ARP)" "" -- \
  in_ns a timeout 10 ping -c 2 -i 0.3 -W 2 10.77.2.1
capture ttl a eth0 "ping -t 1 from a to b: r answers time exceeded, captured on a's eth0" "" -- \
  in_ns a timeout 10 ping -c 1 -t 1 -W 2 10.77.2.1
capture fragneeded a eth0 "ping -M do -s 1200 from a to c over r, whose link to c has MTU 1000: r answers fragmentation needed" "" -- \
  in_ns a timeout 10 ping -c 1 -M do -s 1200 -W 2 10.77.3.1
capture unreach a eth0 "UDP from a to closed ports on b (5 and 1000 bytes), to a REJECTed port (admin prohibited) and to an unrouted net" "" -- \
  in_ns a timeout 10 python3 "$WORK/client.py" unreach
capture hostunreach a eth0 "UDP from a to 10.77.2.99, which never answers ARP on r's eth1: r answers host unreachable" "" -- \
  in_ns a timeout 10 python3 "$WORK/client.py" host-unreach
capture udp a eth0 "UDP from a:5000 to b:7777 and b's answer; then 3000 bytes without DF, sent as three fragments" "" -- \
  in_ns a timeout 10 python3 "$WORK/client.py" udp
capture tcp a eth0 "TCP from a to b:40080: handshake, hello, world, FIN both ways (timestamps on)" "" -- \
  in_ns a timeout 10 python3 "$WORK/client.py" tcp
in_ns a sysctl -qw net.ipv4.tcp_timestamps=0
capture tcpnots a eth0 "TCP from a to b:40080 with net.ipv4.tcp_timestamps=0 on a: SYN has MSS, SACK_PERM, window scale" "" -- \
  in_ns a timeout 10 python3 "$WORK/client.py" tcp
in_ns a sysctl -qw net.ipv4.tcp_timestamps=1
capture tcprst a eth0 "TCP from a to closed port b:8081: b answers RST" "" -- \
  in_ns a timeout 10 python3 "$WORK/client.py" tcp-rst
capture vxlan8472 v1 u0 "underlay of vx0 (VNI 42, port 8472, no outer UDP checksum): ping 10.78.0.1 -> 10.78.0.2" "-T vxlan" -- \
  in_ns v1 timeout 10 ping -c 1 -W 2 10.78.0.2
capture vxlan4789 v1 u0 "underlay of vx1 (VNI 4242, port 4789, outer UDP checksum): ping and a UDP datagram 10.78.1.1 -> 10.78.1.2" "" -- \
  bash -c "ip netns exec ${P}v1 timeout 10 ping -c 1 -W 2 10.78.1.2; ip netns exec ${P}v1 timeout 10 python3 $WORK/client.py vxlan-udp"
capture ipv6 6a eth0 "ping -6 fd77::1 -> fd77::2 (neighbour discovery and echo)" "" -- \
  in_ns 6a timeout 10 ping -6 -c 1 -W 2 fd77::2

cat >"$WORK/to-json.py" <<'PY'
# Reads each capture's pcap, runs tshark and tcpdump on it, and writes one JSON array per capture.
import json, struct, subprocess, sys

work, out = sys.argv[1], sys.argv[2]
KEEP = ("eth.", "arp.", "ip.", "icmp.", "udp.", "tcp.", "vxlan.", "ipv6.", "icmpv6.")
DROP = ("eth.addr", "eth.lg", "eth.ig", "eth.dst_resolved", "eth.src_resolved", "eth.addr_resolved",
        "eth.dst.", "eth.src.", "eth.stream", "ip.addr", "ip.host", "ip.src_host", "ip.dst_host", "ip.stream",
        "tcp.analysis", "tcp.stream", "tcp.time", "tcp.completeness", "tcp.port", "tcp.payload",
        "tcp.segment", "tcp.reassembled", "tcp.pdu", "tcp.flags.str", "tcp.options.", "udp.port", "udp.stream",
        "udp.time", "udp.payload", "ipv6.addr", "ipv6.host", "ipv6.src_host", "ipv6.dst_host", "ipv6.stream")
DROP_EXACT = {"ip.flags.rb", "tcp.flags.res", "tcp.flags.ae", "tcp.connection.syn", "tcp.connection.fin",
              "tcp.connection.rst", "tcp.connection.synack", "tcp.nxtseq", "tcp.window_size",
              "tcp.window_size_scaling_factor", "tcp.option_kind", "tcp.option_len", "vxlan.flag_g",
              "vxlan.flag_d", "vxlan.flag_a", "vxlan.gbp", "vxlan.reserved8", "vxlan.flags_reserved",
              "icmp.ident_le", "icmp.seq_le", "icmp.data_time", "icmp.data_time_relative", "icmp.resptime",
              "icmp.resp_in", "icmp.resp_to", "ip.ttl.too_small"}
KEEP_OPTS = ("tcp.options.mss_val", "tcp.options.wscale.shift", "tcp.options.timestamp.tsval",
             "tcp.options.timestamp.tsecr", "tcp.options.sack_perm", "tcp.options.sack_le")

def read_pcap(path):
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    assert magic == 0xA1B2C3D4, "expected a little-endian microsecond pcap from tcpdump -w"
    assert struct.unpack("<I", data[20:24])[0] == 1, "expected LINKTYPE_ETHERNET"
    off, frames = 24, []
    while off < len(data):
        _, _, incl, orig = struct.unpack("<IIII", data[off:off + 16])
        assert incl == orig, "frame was cut by the snap length"
        frames.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return frames

def flatten(node, acc):
    # Collects every "proto.field": "value" pair, in dissection order (outer headers before inner ones).
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(v, (dict, list)):
                flatten(v, acc)
                # Some fields carry a value and a subtree (the subtree key is "<field>_tree").
            elif isinstance(v, str) and k.startswith(KEEP):
                wanted = k.startswith(KEEP_OPTS) or not (k.startswith(DROP) or k in DROP_EXACT)
                if wanted:
                    acc.setdefault(k, []).append(v)
    elif isinstance(node, list):
        for v in node:
            flatten(v, acc)

def tcpdump_lines(pcap, decode):
    cmd = ["tcpdump", "-n", "-t", "-S", "-#", "-r", pcap] + decode.split()
    text = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    packets = []
    for line in text.splitlines():
        head = line.lstrip()
        num, _, rest = head.partition("  ")
        if num.isdigit() and line.startswith(" ") and int(num) == len(packets) + 1:
            packets.append(rest)
        else:
            packets[-1] += "\n" + line
    return packets

def kind(f):
    # First occurrences: an ICMP error's quoted headers come after the error's own.
    parts = []
    if "vxlan.vni" in f:
        parts.append("vxlan")
    if "arp.opcode" in f:
        parts.append("arp-" + {"1": "request", "2": "reply"}.get(f["arp.opcode"][0], "op"))
    elif "ipv6.version" in f:
        parts.append("ipv6")
    elif "icmp.type" in f:
        t, c = f["icmp.type"][0], f["icmp.code"][0]
        parts.append({"0": "icmp-echo-reply", "8": "icmp-echo-request", "11": "icmp-time-exceeded"}.get(
            t, "icmp-unreach-%s" % c if t == "3" else "icmp-%s" % t))
    elif "tcp.flags" in f:
        fl = int(f["tcp.flags"][0], 16)
        names = [n for bit, n in ((2, "syn"), (1, "fin"), (4, "rst"), (8, "psh"), (16, "ack")) if fl & bit]
        parts.append("tcp-" + "-".join(names))
    elif "udp.srcport" in f:
        parts.append("udp")
    if "ip.frag_offset" in f and (f["ip.frag_offset"][0] != "0" or f["ip.flags.mf"][0] == "1"):
        parts.append("frag")
    return "-".join(parts) or "frame"

for row in open(work + "/captures.tsv"):
    name, note, decode = row.rstrip("\n").split("\t")
    pcap = "%s/%s.pcap" % (work, name)
    frames = read_pcap(pcap)
    tshark_cmd = ["tshark", "-r", pcap, "-T", "json", "--no-duplicate-keys", "-d", "udp.port==8472,vxlan",
                  "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
                  "-o", "tcp.relative_sequence_numbers:FALSE", "-o", "tcp.analyze_sequence_numbers:FALSE",
                  "-o", "ip.defragment:FALSE"]
    dissected = json.loads(subprocess.run(tshark_cmd, check=True, capture_output=True, text=True).stdout)
    lines = tcpdump_lines(pcap, decode)
    assert len(dissected) == len(frames) == len(lines), (name, len(dissected), len(frames), len(lines))
    entries = []
    for i, (frame, pkt, line) in enumerate(zip(frames, dissected, lines)):
        fields = {}
        flatten(pkt["_source"]["layers"], fields)
        entries.append({
            "name": "%s-%02d-%s" % (name, i + 1, kind(fields)),
            "hex": frame.hex(),
            "note": note,
            "tcpdump": line,
            "tcpdumpOptions": ("-n -t -S " + decode).strip(),
            "tshark": fields,
        })
    with open("%s/%s.json" % (out, name), "w") as fh:
        json.dump(entries, fh, indent=1)
        fh.write("\n")
    print("%-12s %2d frames" % (name, len(entries)))
PY

mkdir -p "$OUT"
python3 "$WORK/to-json.py" "$WORK" "$OUT"
{
  echo "uname -r: $(uname -r)"
  echo "tcpdump: $(tcpdump --version 2>&1 | head -1)"
  echo "tshark: $(tshark --version 2>/dev/null | head -1)"
} >"$OUT/CAPTURED-ON.txt"
echo "fixtures written to $OUT"
