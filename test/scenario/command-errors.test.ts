import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/scenario/commands/parse.js';
import { ScenarioError } from '../../src/scenario/errors.js';

function error(line: string): string {
  try {
    parseCommand(line, 'cmd.yaml');
  } catch (e) {
    if (e instanceof ScenarioError) return e.toString();
    throw e;
  }
  throw new Error(`'${line}' parsed without error`);
}

type Case = [line: string, expected: string];

function table(cases: Case[]): void {
  it.each(cases)('%s', (line, expected) => {
    expect(error(line)).toBe(expected);
  });
}

describe('shell syntax', () => {
  table([
    ["ip link set 'eth0 up", 'cmd.yaml:1:13: unterminated single quote'],
    ['ip link set "eth0 up', 'cmd.yaml:1:13: unterminated double quote'],
    [
      'echo 1 | tee /proc/sys/net/ipv4/ip_forward',
      "cmd.yaml:1:8: pipes ('|') are not supported: put one command per line (for '… | tee /proc/sys/…' use 'sysctl -w KEY=VALUE')",
    ],
    ['ip netns add a; ip netns add b', "cmd.yaml:1:15: ';' is not supported: put one command per line"],
    ['ip netns add a && ip netns add b', "cmd.yaml:1:16: '&&' is not supported: put one command per line"],
    ['ip netns add a || true', "cmd.yaml:1:16: '||' is not supported: put one command per line"],
    ['ip netns add a &', "cmd.yaml:1:16: background jobs ('&') are not supported"],
    ['ip netns add $(hostname)', "cmd.yaml:1:14: command substitution ('$(') is not supported"],
    ['ip netns add `hostname`', 'cmd.yaml:1:14: command substitution (backticks) is not supported'],
    ['ip netns add $NS', "cmd.yaml:1:14: shell variables ('$') are not supported: write the value itself"],
    ['ip netns add "pod-$i"', "cmd.yaml:1:19: shell variables ('$') are not supported: write the value itself"],
    ['iptables-restore < rules', "cmd.yaml:1:18: input redirection ('<') is not supported"],
    ['(ip netns add a)', "cmd.yaml:1:1: subshells ('(') are not supported"],
    [
      'echo 1 >> /proc/sys/net/ipv4/ip_forward',
      "cmd.yaml:1:8: append redirection '>>' is not supported; use 'echo VALUE > /proc/sys/…'",
    ],
    ['echo 1 2>/dev/null', 'cmd.yaml:1:8: redirection of file descriptor 2 is not supported'],
    [
      'ip link set eth0 up > /dev/null',
      "cmd.yaml:1:21: unexpected '>': output redirection is only supported as 'echo VALUE > /proc/sys/…'",
    ],
  ]);

  it('keeps $ literal inside single quotes', () => {
    expect(error("ip netns add '$NS/x'")).toBe(
      "cmd.yaml:1:14: invalid namespace name '$NS/x' (no '/', ':' or spaces; not '.' or '..')",
    );
  });
});

describe('programs and objects', () => {
  table([
    ['iptables -t nat -A POSTROUTING -j MASQUERADE', "cmd.yaml:1:1: unsupported command 'iptables'"],
    ['iptables-restore', "cmd.yaml:1:1: unsupported command 'iptables-restore'"],
    ['ping 10.0.0.1', "cmd.yaml:1:1: unsupported command 'ping'"],
    ['ip netns exec a curl 10.0.0.2', "cmd.yaml:1:17: unsupported command 'curl'"],
    ['ip foo', "cmd.yaml:1:4: unknown object 'foo' for 'ip'; expected one of: address, route, neighbor, link, netns"],
    [
      'ip rule add from all lookup 100',
      "cmd.yaml:1:4: 'ip rule' is not supported; supported objects: address, route, neighbor, link, netns",
    ],
    [
      'ip ru add from all',
      "cmd.yaml:1:4: 'ru' ('ip rule') is not supported; supported objects: address, route, neighbor, link, netns",
    ],
    ['ip', "cmd.yaml:1:1: missing object after 'ip'; expected one of: address, route, neighbor, link, netns"],
    ['ip link', "cmd.yaml:1:4: missing command after 'link'; expected one of: add, set, delete"],
    ['ip link show', "cmd.yaml:1:9: 'ip link show' is not supported; supported commands: add, set, delete"],
    ['ip link s', "cmd.yaml:1:9: missing device in 'ip link set' ([dev] NAME)"],
    ['ip netns list', "cmd.yaml:1:10: 'ip netns list' is not supported; supported commands: add, delete, exec"],
    ['ip netns s', "cmd.yaml:1:10: 's' ('ip netns show') is not supported; supported commands: add, delete, exec"],
    ['ip netns exec a', "cmd.yaml:1:15: missing a command after 'a'"],
    ['ip netns add root', "cmd.yaml:1:14: 'root' is the name of the initial namespace; choose another name"],
    ['ip netns add a b', "cmd.yaml:1:16: unexpected 'b' after 'ip netns add a'"],
    [
      'ip -d link set eth0 up',
      "cmd.yaml:1:4: unsupported option '-d' for 'ip'; supported: -n NS, -netns NS, -4, -f inet",
    ],
    ['ip -n', "cmd.yaml:1:4: missing a namespace name after '-n'"],
    ['bridge vlan add vid 10 dev eth0', "cmd.yaml:1:8: 'bridge vlan' is not supported; supported objects: link, fdb"],
    ['sudo -E ip link set eth0 up', "cmd.yaml:1:6: options of 'sudo' are not supported"],
    ['echo hello', "cmd.yaml:1:1: 'echo' is only supported as 'echo VALUE > /proc/sys/…' (writing a kernel parameter)"],
    ['echo 1 > /etc/hosts', "cmd.yaml:1:10: 'echo' can only write to /proc/sys/…, not '/etc/hosts'"],
  ]);
});

describe('IPv6', () => {
  table([
    ['ip -6 addr add fd00::1/64 dev eth0', 'cmd.yaml:1:4: IPv6 is not supported'],
    ['ip -f inet6 route add default via fd00::1', 'cmd.yaml:1:7: IPv6 is not supported'],
    ['ip addr add fd00::1/64 dev eth0', "cmd.yaml:1:13: IPv6 is not supported: 'fd00::1/64'"],
    ['ip route add default via fe80::1 dev eth0', "cmd.yaml:1:26: IPv6 is not supported: 'fe80::1'"],
    ['ip neigh add fd00::2 lladdr 02:00:00:00:00:02 dev eth0', "cmd.yaml:1:14: IPv6 is not supported: 'fd00::2'"],
    ['bridge -6 fdb add 02:00:00:00:00:02 dev vxlan0', 'cmd.yaml:1:8: IPv6 is not supported'],
  ]);
});

describe('values', () => {
  table([
    [
      'ip addr add 10.0.0.256/24 dev eth0',
      "cmd.yaml:1:13: invalid address '10.0.0.256/24' (expected an IPv4 address with optional /0-32)",
    ],
    [
      'ip addr add 10.0.0.1/33 dev eth0',
      "cmd.yaml:1:13: invalid address '10.0.0.1/33' (expected an IPv4 address with optional /0-32)",
    ],
    ['ip addr add 10.0.0.1/24 dev', "cmd.yaml:1:25: missing a device name after 'dev'"],
    ['ip addr add 10.0.0.1/24', "cmd.yaml:1:13: missing 'dev NAME' in 'ip address add'"],
    ['ip addr add dev eth0', "cmd.yaml:1:17: missing address in 'ip address add'"],
    ['ip addr add 10.0.0.1/24 10.0.0.2/24 dev eth0', "cmd.yaml:1:25: address given twice (already '10.0.0.1/24')"],
    [
      'ip route add 10.0.0.1/24 dev eth0',
      "cmd.yaml:1:14: invalid prefix '10.0.0.1/24': host bits are set (the network is 10.0.0.0/24)",
    ],
    [
      'ip route add 10.0.0.0/24 via 10.0.0.300',
      "cmd.yaml:1:30: invalid gateway address '10.0.0.300' (expected a dotted quad like 10.0.0.1)",
    ],
    [
      'ip route add 10/8 dev eth0',
      "cmd.yaml:1:14: invalid prefix '10/8' (expected an IPv4 address with optional /0-32)",
    ],
    [
      'ip route add 10.0.0.0/8 dev eth0 metric -1',
      "cmd.yaml:1:41: invalid metric '-1' (expected an integer 0-4294967295)",
    ],
    [
      'ip route add 10.0.0.0/8 dev eth0 table foo',
      "cmd.yaml:1:40: invalid table 'foo' (expected main, local, default or a number)",
    ],
    [
      'ip route add 10.0.0.0/8 dev eth0 proto bird',
      "cmd.yaml:1:40: invalid protocol 'bird' (expected kernel, boot, static or 0-255)",
    ],
    [
      'ip route add 10.0.0.0/8 dev eth0 scope site',
      "cmd.yaml:1:40: invalid scope 'site' (expected global, link or host)",
    ],
    ['ip link set eth0 mtu 15x0', "cmd.yaml:1:22: invalid MTU '15x0' (expected an integer 0-4294967295)"],
    [
      'ip link set eth0 address 02:42:ac:11:00',
      "cmd.yaml:1:26: invalid MAC address '02:42:ac:11:00' (expected six hex octets like 02:42:ac:11:00:02)",
    ],
    [
      'ip neigh add 10.0.0.2 lladdr zz:00:00:00:00:01 dev eth0',
      "cmd.yaml:1:30: invalid MAC address 'zz:00:00:00:00:01' (expected six hex octets like 02:42:ac:11:00:02)",
    ],
    [
      'bridge fdb add 02:42:ac:11:00:0g dev eth0',
      "cmd.yaml:1:16: invalid MAC address '02:42:ac:11:00:0g' (expected six hex octets like 02:42:ac:11:00:02)",
    ],
    [
      'bridge fdb add 02:42:ac:11:00:02 dev vxlan0 vni 16777216',
      "cmd.yaml:1:49: invalid VNI '16777216' (expected an integer 0-16777215)",
    ],
    ['ip link set eth0 promisc yes', "cmd.yaml:1:26: invalid value 'yes' for 'promisc' (expected on or off)"],
    [
      'ip link add averyveryverylongname type dummy',
      "cmd.yaml:1:13: invalid device name 'averyveryverylongname' (1-15 characters, no '/', ':' or spaces)",
    ],
    ['ip link add br0 type bridge stp_state 2', "cmd.yaml:1:39: invalid stp_state '2' (expected an integer 0-1)"],
    [
      'ip neigh add 10.0.0.2 dev eth0 nud delay',
      "cmd.yaml:1:36: invalid nud state 'delay' (supported: permanent, reachable, noarp, stale)",
    ],
    [
      'sysctl net.ipv4.ip_forward',
      "cmd.yaml:1:8: reading 'net.ipv4.ip_forward' is not supported; write a value with 'sysctl -w net.ipv4.ip_forward=VALUE'",
    ],
    ['sysctl -w net.ipv4.ip_forward', "cmd.yaml:1:11: 'net.ipv4.ip_forward' must be of the form KEY=VALUE"],
    ['sysctl -w net.ipv4.ip_forward=', "cmd.yaml:1:11: missing value in 'net.ipv4.ip_forward='"],
    ['sysctl -p /etc/sysctl.conf', "cmd.yaml:1:8: unsupported option '-p' for 'sysctl'; supported: -w, -q"],
    ['sysctl -w', "cmd.yaml:1:8: missing KEY=VALUE after 'sysctl'"],
  ]);
});

describe('options', () => {
  table([
    [
      'ip link set eth0 upp',
      "cmd.yaml:1:18: unknown option 'upp' for 'ip link set'; expected one of: up, down, name, address, mtu, netns, promisc, master, nomaster, dev",
    ],
    [
      'ip link set eth0 txqueuelen 1000',
      "cmd.yaml:1:18: option 'txqueuelen' is not supported in 'ip link set'; supported: up, down, name, address, mtu, netns, promisc, master, nomaster, dev",
    ],
    [
      'ip link add v0 t veth peer name v1',
      "cmd.yaml:1:16: option 't' (txqueuelen) is not supported in 'ip link add'; supported: up, name, address, mtu, netns, type, dev",
    ],
    [
      'ip link add veth0 master br0 type veth peer name veth1',
      "cmd.yaml:1:19: option 'master' is not supported in 'ip link add'; supported: up, name, address, mtu, netns, type, dev",
    ],
    ['ip link add veth0 type veth', "cmd.yaml:1:24: 'type veth' needs 'peer [name] PEER'"],
    ['ip link add veth0 type veth peer', "cmd.yaml:1:29: missing device name in 'peer'"],
    ['ip link add veth0 type veth foo', "cmd.yaml:1:29: unknown option 'foo' for 'type veth'; expected: peer"],
    [
      'ip link add veth0 type veth peer name veth1 foo',
      "cmd.yaml:1:45: unknown option 'foo' for 'ip link add … type veth peer'; expected one of: up, name, address, mtu, netns, dev",
    ],
    ['ip link add veth0 type veth peer name veth1 type veth', "cmd.yaml:1:45: 'type' given twice"],
    ['ip link add veth0', "cmd.yaml:1:13: missing 'type' in 'ip link add' (veth, bridge, dummy, vxlan)"],
    [
      'ip link add mv0 type macvlan',
      "cmd.yaml:1:22: unsupported link type 'macvlan'; supported: veth, bridge, dummy, vxlan",
    ],
    ['ip link add x0 type foo', "cmd.yaml:1:21: unknown link type 'foo'; supported: veth, bridge, dummy, vxlan"],
    [
      'ip link add br0 type bridge vlan_filtering 1',
      "cmd.yaml:1:29: bridge option 'vlan_filtering' is not supported; supported: ageing_time, stp_state",
    ],
    [
      'ip link add br0 type bridge foo 1',
      "cmd.yaml:1:29: unknown option 'foo' for 'type bridge'; expected one of: ageing_time, stp_state",
    ],
    ['ip link add d0 type dummy extra', "cmd.yaml:1:27: unexpected 'extra' after 'type dummy'"],
    [
      'ip addr add 10.0.0.1/24 dev eth0 foo',
      "cmd.yaml:1:34: unknown option 'foo' for 'ip address add'; expected one of: broadcast, scope, dev, label, local",
    ],
    [
      'ip addr add 10.0.0.1/24 dev eth0 noprefixroute',
      "cmd.yaml:1:34: option 'noprefixroute' is not supported in 'ip address add'; supported: broadcast, scope, dev, label, local",
    ],
    [
      'ip route add 10.0.0.0/8 dev eth0 nexthop via 10.0.0.1',
      "cmd.yaml:1:34: option 'nexthop' is not supported in 'ip route add'; supported: src, via, metric, scope, mtu, advmss, onlink, protocol, table, dev, to",
    ],
    [
      'ip route add 10.0.0.0/8 foo 1',
      "cmd.yaml:1:25: unknown option 'foo' for 'ip route add'; expected one of: src, via, metric, scope, mtu, advmss, onlink, protocol, table, dev, to",
    ],
    [
      'ip route add throw 10.0.0.0/8',
      "cmd.yaml:1:14: route type 'throw' is not supported; supported: local, prohibit, unreachable, blackhole, unicast",
    ],
    [
      'ip route add 10.0.0.0/8 via 10.0.0.1 via 10.0.0.2',
      "cmd.yaml:1:38: 'via' given twice (multipath routes are not supported)",
    ],
    ['ip route add dev eth0', "cmd.yaml:1:18: missing destination in 'ip route add' (PREFIX or default)"],
    [
      'ip route show',
      "cmd.yaml:1:10: 'ip route show' is not supported; supported commands: add, change, replace, append, delete",
    ],
    ['ip route add 10.0.0.0/8 dev eth0 mtu lock 1400', "cmd.yaml:1:38: 'lock' is not supported"],
    [
      'ip neigh add 10.0.0.2 dev eth0 proxy',
      "cmd.yaml:1:32: option 'proxy' is not supported in 'ip neighbor add'; supported: lladdr, nud, dev, to",
    ],
    [
      'ip neigh del 10.0.0.2 lladdr 02:00:00:00:00:01 dev eth0',
      "cmd.yaml:1:23: option 'lladdr' is not supported in 'ip neighbor delete'; supported: dev, to",
    ],
    ['ip neigh add 10.0.0.2 lladdr 02:00:00:00:00:01', "cmd.yaml:1:30: missing 'dev NAME' in 'ip neighbor add'"],
    [
      'ip addr flush dev eth0 scope global',
      "cmd.yaml:1:24: option 'scope' is not supported in 'ip address flush'; supported: dev",
    ],
    [
      'bridge fdb add 02:42:ac:11:00:02 dev vxlan0 vlan 10',
      "cmd.yaml:1:45: option 'vlan' is not supported in 'bridge fdb add'; supported: dev, dst, vni, self, master, permanent, static, dynamic, to",
    ],
    ['bridge fdb add dev vxlan0', "cmd.yaml:1:20: 'bridge fdb add' needs a MAC address and 'dev NAME'"],
    [
      'bridge link set dev veth0 guard on',
      "cmd.yaml:1:27: option 'guard' is not supported in 'bridge link set'; supported: dev, hairpin, learning, flood",
    ],
    [
      'bridge link set veth0 hairpin on',
      "cmd.yaml:1:17: unknown option 'veth0' for 'bridge link set'; expected one of: dev, hairpin, learning, flood",
    ],
  ]);
});

it('rejects a second command in parseCommand', () => {
  expect(error('ip netns add a\nip netns add b')).toBe('cmd.yaml:2:1: expected a single command; found another line');
});
