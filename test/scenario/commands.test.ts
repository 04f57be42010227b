import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/scenario/commands/parse.js';
import type { Command } from '../../src/scenario/types.js';
import { parseIpv4, parseMac } from '../../src/wire/addr.js';

const ip = (s: string): number => parseIpv4(s)!;
const mac = (s: string): number => parseMac(s)!;
const cidr = (s: string) => {
  const [a, l] = s.split('/');
  return { addr: ip(a!), len: Number(l) };
};

function parsed(line: string): Omit<Command, 'pos'> {
  const { pos: _pos, ...rest } = parseCommand(line, 'cmd.yaml');
  return rest;
}

type Case = [line: string, expected: Record<string, unknown>];

function table(cases: Case[]): void {
  it.each(cases)('%s', (line, expected) => {
    expect(parsed(line)).toEqual(expected);
  });
}

describe('ip netns', () => {
  table([
    ['ip netns add a', { kind: 'netnsAdd', ns: null, name: 'a' }],
    ['ip netns a pod-1', { kind: 'netnsAdd', ns: null, name: 'pod-1' }],
    ['ip netns del a', { kind: 'netnsDel', ns: null, name: 'a' }],
    ['ip netns delete a', { kind: 'netnsDel', ns: null, name: 'a' }],
    ['ip netns d a', { kind: 'netnsDel', ns: null, name: 'a' }],
    ['ip net add a', { kind: 'netnsAdd', ns: null, name: 'a' }],
  ]);
});

describe('ip link add', () => {
  table([
    [
      'ip link add veth0 type veth peer name veth1',
      { kind: 'linkAddVeth', ns: null, name: 'veth0', peer: { name: 'veth1' } },
    ],
    [
      'ip link add veth0 type veth peer name veth1 netns b',
      { kind: 'linkAddVeth', ns: null, name: 'veth0', peer: { name: 'veth1', netns: 'b' } },
    ],
    [
      'ip link add veth0 type veth peer veth1',
      { kind: 'linkAddVeth', ns: null, name: 'veth0', peer: { name: 'veth1' } },
    ],
    [
      'ip link add name veth0 address 02:00:00:00:00:01 mtu 1450 type veth peer name veth1 address 02:00:00:00:00:02 mtu 1400 netns pod',
      {
        kind: 'linkAddVeth',
        ns: null,
        name: 'veth0',
        address: mac('02:00:00:00:00:01'),
        mtu: 1450,
        peer: { name: 'veth1', address: mac('02:00:00:00:00:02'), mtu: 1400, netns: 'pod' },
      },
    ],
    ['ip link add dev v0 type veth peer dev v1', { kind: 'linkAddVeth', ns: null, name: 'v0', peer: { name: 'v1' } }],
    [
      'ip link add v0 up type veth peer v1 up',
      { kind: 'linkAddVeth', ns: null, name: 'v0', up: true, peer: { name: 'v1', up: true } },
    ],
    ['ip link add br0 type bridge', { kind: 'linkAddBridge', ns: null, name: 'br0' }],
    [
      'ip link add br0 type bridge stp_state 1 ageing_time 30000',
      { kind: 'linkAddBridge', ns: null, name: 'br0', stpState: 1, ageingTime: 30000 },
    ],
    [
      'ip link add br0 type bridge stp 0 age 100',
      { kind: 'linkAddBridge', ns: null, name: 'br0', stpState: 0, ageingTime: 100 },
    ],
    ['ip link add name cni0 type bridge', { kind: 'linkAddBridge', ns: null, name: 'cni0' }],
    ['ip link add d0 type dummy', { kind: 'linkAddDummy', ns: null, name: 'd0' }],
    ['ip link add d0 mtu 9000 type dummy', { kind: 'linkAddDummy', ns: null, name: 'd0', mtu: 9000 }],
    ['ip l a br0 ty bridge', { kind: 'linkAddBridge', ns: null, name: 'br0' }],
    ['ip li add v0 ty veth peer v1', { kind: 'linkAddVeth', ns: null, name: 'v0', peer: { name: 'v1' } }],
  ]);
});

describe('ip link set / delete', () => {
  table([
    ['ip link set eth0 up', { kind: 'linkSet', ns: null, dev: 'eth0', up: true }],
    ['ip link set dev eth0 down', { kind: 'linkSet', ns: null, dev: 'eth0', up: false }],
    ['ip link set veth1 netns b', { kind: 'linkSet', ns: null, dev: 'veth1', netns: 'b' }],
    ['ip link set veth0 master br0', { kind: 'linkSet', ns: null, dev: 'veth0', master: 'br0' }],
    ['ip link set veth0 nomaster', { kind: 'linkSet', ns: null, dev: 'veth0', master: null }],
    ['ip link set dev veth1 name eth0', { kind: 'linkSet', ns: null, dev: 'veth1', name: 'eth0' }],
    ['ip link set eth0 mtu 1450', { kind: 'linkSet', ns: null, dev: 'eth0', mtu: 1450 }],
    [
      'ip link set eth0 address 02:42:AC:11:00:02',
      { kind: 'linkSet', ns: null, dev: 'eth0', address: mac('02:42:ac:11:00:02') },
    ],
    ['ip link set eth0 promisc on', { kind: 'linkSet', ns: null, dev: 'eth0', promisc: true }],
    ['ip link set eth0 promisc off', { kind: 'linkSet', ns: null, dev: 'eth0', promisc: false }],
    [
      'ip link set veth0 master br0 mtu 1400 up',
      { kind: 'linkSet', ns: null, dev: 'veth0', master: 'br0', mtu: 1400, up: true },
    ],
    ['ip link set up dev veth0', { kind: 'linkSet', ns: null, dev: 'veth0', up: true }],
    ['ip link set eth0 up down', { kind: 'linkSet', ns: null, dev: 'eth0', up: false }],
    ['ip link change eth0 up', { kind: 'linkSet', ns: null, dev: 'eth0', up: true }],
    // iproute2 abbreviations: `s` is set, `m` master, `n` nomaster, `a` address.
    ['ip l s eth0 up', { kind: 'linkSet', ns: null, dev: 'eth0', up: true }],
    ['ip link set eth0 m br0', { kind: 'linkSet', ns: null, dev: 'eth0', master: 'br0' }],
    ['ip link set eth0 n', { kind: 'linkSet', ns: null, dev: 'eth0', master: null }],
    [
      'ip link set eth0 a 02:00:00:00:00:09',
      { kind: 'linkSet', ns: null, dev: 'eth0', address: mac('02:00:00:00:00:09') },
    ],
    ['ip link del veth0', { kind: 'linkDel', ns: null, dev: 'veth0' }],
    ['ip link delete dev veth0', { kind: 'linkDel', ns: null, dev: 'veth0' }],
    ['ip link del veth0 type veth', { kind: 'linkDel', ns: null, dev: 'veth0' }],
    ['ip l d br0', { kind: 'linkDel', ns: null, dev: 'br0' }],
  ]);
});

describe('ip address', () => {
  table([
    [
      'ip addr add 10.0.0.1/24 dev eth0',
      { kind: 'addrAdd', ns: null, dev: 'eth0', cidr: cidr('10.0.0.1/24'), scope: 'global' },
    ],
    [
      'ip address add 10.0.0.1 dev eth0',
      { kind: 'addrAdd', ns: null, dev: 'eth0', cidr: cidr('10.0.0.1/32'), scope: 'global' },
    ],
    [
      'ip a add 10.0.0.1/24 dev eth0 brd +',
      {
        kind: 'addrAdd',
        ns: null,
        dev: 'eth0',
        cidr: cidr('10.0.0.1/24'),
        broadcast: ip('10.0.0.255'),
        scope: 'global',
      },
    ],
    [
      'ip a a 10.0.0.1/24 brd - dev eth0',
      { kind: 'addrAdd', ns: null, dev: 'eth0', cidr: cidr('10.0.0.1/24'), broadcast: ip('10.0.0.0'), scope: 'global' },
    ],
    [
      'ip addr add 10.0.0.1/31 dev eth0 brd +',
      { kind: 'addrAdd', ns: null, dev: 'eth0', cidr: cidr('10.0.0.1/31'), scope: 'global' },
    ],
    [
      'ip addr add 10.0.0.1/24 broadcast 10.0.0.127 dev eth0',
      {
        kind: 'addrAdd',
        ns: null,
        dev: 'eth0',
        cidr: cidr('10.0.0.1/24'),
        broadcast: ip('10.0.0.127'),
        scope: 'global',
      },
    ],
    [
      'ip addr add 169.254.1.1/16 dev eth0 scope link label eth0:ll',
      { kind: 'addrAdd', ns: null, dev: 'eth0', cidr: cidr('169.254.1.1/16'), scope: 'link', label: 'eth0:ll' },
    ],
    [
      'ip addr add 127.0.0.2/8 dev lo',
      { kind: 'addrAdd', ns: null, dev: 'lo', cidr: cidr('127.0.0.2/8'), scope: 'host' },
    ],
    [
      'ip addr add local 10.0.0.1/24 dev eth0',
      { kind: 'addrAdd', ns: null, dev: 'eth0', cidr: cidr('10.0.0.1/24'), scope: 'global' },
    ],
    ['ip addr del 10.0.0.1/24 dev eth0', { kind: 'addrDel', ns: null, dev: 'eth0', addr: ip('10.0.0.1'), len: 24 }],
    ['ip a d 10.0.0.1 dev eth0', { kind: 'addrDel', ns: null, dev: 'eth0', addr: ip('10.0.0.1') }],
    ['ip addr flush dev eth0', { kind: 'addrFlush', ns: null, dev: 'eth0' }],
    ['ip a f eth0', { kind: 'addrFlush', ns: null, dev: 'eth0' }],
  ]);
});

const route = (extra: Record<string, unknown>) => ({
  kind: 'routeAdd',
  ns: null,
  onlink: false,
  table: 254,
  ...extra,
});

describe('ip route', () => {
  table([
    [
      'ip route add default via 10.0.0.1',
      route({ op: 'add', type: 'unicast', dst: cidr('0.0.0.0/0'), via: ip('10.0.0.1'), protocol: 3, scope: 'global' }),
    ],
    [
      'ip route add 10.1.0.0/16 dev eth0',
      route({ op: 'add', type: 'unicast', dst: cidr('10.1.0.0/16'), dev: 'eth0', protocol: 3, scope: 'link' }),
    ],
    [
      'ip r a 10.1.0.0/16 via 10.0.0.1 dev eth0 onlink metric 100 src 10.0.0.2 table 100 proto static scope global mtu 1400 advmss 1360',
      route({
        op: 'add',
        type: 'unicast',
        dst: cidr('10.1.0.0/16'),
        via: ip('10.0.0.1'),
        dev: 'eth0',
        onlink: true,
        metric: 100,
        src: ip('10.0.0.2'),
        table: 100,
        protocol: 4,
        scope: 'global',
        mtu: 1400,
        advmss: 1360,
      }),
    ],
    [
      'ip route add 10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1',
      route({
        op: 'add',
        type: 'unicast',
        dst: cidr('10.0.0.0/24'),
        dev: 'eth0',
        protocol: 2,
        scope: 'link',
        src: ip('10.0.0.1'),
      }),
    ],
    [
      'ip ro add to 10.2.0.0/16 via 10.0.0.1 priority 5',
      route({
        op: 'add',
        type: 'unicast',
        dst: cidr('10.2.0.0/16'),
        via: ip('10.0.0.1'),
        metric: 5,
        protocol: 3,
        scope: 'global',
      }),
    ],
    [
      'ip route add 10.2.0.0/16 via 10.0.0.1 preference 7 table main',
      route({
        op: 'add',
        type: 'unicast',
        dst: cidr('10.2.0.0/16'),
        via: ip('10.0.0.1'),
        metric: 7,
        protocol: 3,
        scope: 'global',
      }),
    ],
    // `pr` is `priority` (it comes before `protocol` in iproute2).
    [
      'ip route add 10.5.0.0/16 dev eth0 pr 7',
      route({
        op: 'add',
        type: 'unicast',
        dst: cidr('10.5.0.0/16'),
        dev: 'eth0',
        metric: 7,
        protocol: 3,
        scope: 'link',
      }),
    ],
    [
      'ip route add 10.9.0.0/16 oif eth0 proto 42',
      route({ op: 'add', type: 'unicast', dst: cidr('10.9.0.0/16'), dev: 'eth0', protocol: 42, scope: 'link' }),
    ],
    [
      'ip route add blackhole 10.3.0.0/16',
      route({ op: 'add', type: 'blackhole', dst: cidr('10.3.0.0/16'), protocol: 3, scope: 'global' }),
    ],
    [
      'ip route add unreachable 10.4.0.0/16',
      route({ op: 'add', type: 'unreachable', dst: cidr('10.4.0.0/16'), protocol: 3, scope: 'global' }),
    ],
    [
      'ip route add prohibit 10.6.0.0/16 metric 1',
      route({ op: 'add', type: 'prohibit', dst: cidr('10.6.0.0/16'), metric: 1, protocol: 3, scope: 'global' }),
    ],
    [
      'ip route add local 10.7.0.1 dev lo',
      route({ op: 'add', type: 'local', dst: cidr('10.7.0.1/32'), dev: 'lo', table: 255, protocol: 3, scope: 'host' }),
    ],
    [
      'ip route add local 10.7.0.0/24 dev lo table main',
      route({ op: 'add', type: 'local', dst: cidr('10.7.0.0/24'), dev: 'lo', protocol: 3, scope: 'host' }),
    ],
    ['ip route del default', route({ op: 'del', dst: cidr('0.0.0.0/0') })],
    ['ip route delete 10.1.0.0/16 dev eth0', route({ op: 'del', dst: cidr('10.1.0.0/16'), dev: 'eth0' })],
    ['ip r d blackhole 10.3.0.0/16', route({ op: 'del', type: 'blackhole', dst: cidr('10.3.0.0/16') })],
    [
      'ip route replace default via 10.0.0.254',
      route({
        op: 'replace',
        type: 'unicast',
        dst: cidr('0.0.0.0/0'),
        via: ip('10.0.0.254'),
        protocol: 3,
        scope: 'global',
      }),
    ],
    [
      'ip r r 10.1.0.0/16 dev eth1',
      route({ op: 'replace', type: 'unicast', dst: cidr('10.1.0.0/16'), dev: 'eth1', protocol: 3, scope: 'link' }),
    ],
    [
      'ip route append 10.1.0.0/16 via 10.0.0.2 metric 10',
      route({
        op: 'append',
        type: 'unicast',
        dst: cidr('10.1.0.0/16'),
        via: ip('10.0.0.2'),
        metric: 10,
        protocol: 3,
        scope: 'global',
      }),
    ],
    [
      'ip route change default via 10.0.0.3',
      route({
        op: 'change',
        type: 'unicast',
        dst: cidr('0.0.0.0/0'),
        via: ip('10.0.0.3'),
        protocol: 3,
        scope: 'global',
      }),
    ],
    [
      'ip route chg default via 10.0.0.3',
      route({
        op: 'change',
        type: 'unicast',
        dst: cidr('0.0.0.0/0'),
        via: ip('10.0.0.3'),
        protocol: 3,
        scope: 'global',
      }),
    ],
  ]);
});

describe('ip neighbour', () => {
  table([
    [
      'ip neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev eth0',
      {
        kind: 'neighAdd',
        op: 'add',
        ns: null,
        dst: ip('10.0.0.2'),
        lladdr: mac('02:00:00:00:00:02'),
        dev: 'eth0',
        nud: 'permanent',
      },
    ],
    [
      'ip neighbor replace 10.0.0.2 lladdr 02:00:00:00:00:02 dev eth0 nud reachable',
      {
        kind: 'neighAdd',
        op: 'replace',
        ns: null,
        dst: ip('10.0.0.2'),
        lladdr: mac('02:00:00:00:00:02'),
        dev: 'eth0',
        nud: 'reachable',
      },
    ],
    [
      'ip neighbour add to 10.0.0.3 dev eth0 lladdr 02:00:00:00:00:03 nud stale',
      {
        kind: 'neighAdd',
        op: 'add',
        ns: null,
        dst: ip('10.0.0.3'),
        lladdr: mac('02:00:00:00:00:03'),
        dev: 'eth0',
        nud: 'stale',
      },
    ],
    [
      'ip n a 10.0.0.4 dev eth0 nud noarp',
      { kind: 'neighAdd', op: 'add', ns: null, dst: ip('10.0.0.4'), dev: 'eth0', nud: 'noarp' },
    ],
    [
      'ip n a 10.0.0.4 l 02:00:00:00:00:04 dev eth0 nud perm',
      {
        kind: 'neighAdd',
        op: 'add',
        ns: null,
        dst: ip('10.0.0.4'),
        lladdr: mac('02:00:00:00:00:04'),
        dev: 'eth0',
        nud: 'permanent',
      },
    ],
    ['ip neigh del 10.0.0.2 dev eth0', { kind: 'neighDel', ns: null, dst: ip('10.0.0.2'), dev: 'eth0' }],
    ['ip ne d 10.0.0.2 dev eth0', { kind: 'neighDel', ns: null, dst: ip('10.0.0.2'), dev: 'eth0' }],
  ]);
});

const fdb = (extra: Record<string, unknown>) => ({
  ns: null,
  mac: mac('02:42:ac:11:00:02'),
  self: true,
  master: false,
  ...extra,
});

describe('bridge', () => {
  table([
    [
      'bridge fdb add 02:42:ac:11:00:02 dev vxlan0',
      fdb({ kind: 'fdbAdd', op: 'add', dev: 'vxlan0', state: 'permanent' }),
    ],
    [
      'bridge fdb append 02:42:ac:11:00:02 dev vxlan0 dst 192.168.1.2 self permanent vni 1',
      fdb({ kind: 'fdbAdd', op: 'append', dev: 'vxlan0', state: 'permanent', dst: ip('192.168.1.2'), vni: 1 }),
    ],
    [
      'bridge fdb add 02:42:ac:11:00:02 dev veth0 master static',
      fdb({ kind: 'fdbAdd', op: 'add', dev: 'veth0', self: false, master: true, state: 'static' }),
    ],
    [
      'bridge fdb replace to 02:42:ac:11:00:02 dev veth0 master dynamic',
      fdb({ kind: 'fdbAdd', op: 'replace', dev: 'veth0', self: false, master: true, state: 'dynamic' }),
    ],
    // `s` is static, `l` local (= permanent), as fdb_modify() matches them.
    [
      'bridge fdb add 02:42:ac:11:00:02 dev veth0 master s',
      fdb({ kind: 'fdbAdd', op: 'add', dev: 'veth0', self: false, master: true, state: 'static' }),
    ],
    [
      'bridge fdb a 02:42:ac:11:00:02 dev veth0 self master l',
      fdb({ kind: 'fdbAdd', op: 'add', dev: 'veth0', master: true, state: 'permanent' }),
    ],
    [
      'bridge fdb del 02:42:ac:11:00:02 dev vxlan0 dst 192.168.1.2',
      fdb({ kind: 'fdbDel', dev: 'vxlan0', dst: ip('192.168.1.2') }),
    ],
    ['bridge f d 02:42:ac:11:00:02 dev veth0 master', fdb({ kind: 'fdbDel', dev: 'veth0', self: false, master: true })],
    ['bridge link set dev veth0 hairpin on', { kind: 'bridgeLinkSet', ns: null, dev: 'veth0', hairpin: true }],
    [
      'bridge link set dev veth0 hairpin off learning on flood off',
      { kind: 'bridgeLinkSet', ns: null, dev: 'veth0', hairpin: false, learning: true, flood: false },
    ],
    ['bridge l s dev veth0 learning off', { kind: 'bridgeLinkSet', ns: null, dev: 'veth0', learning: false }],
  ]);
});

const sysctl = (ns: string | null, ...kv: [string, string][]) => ({
  kind: 'sysctl',
  ns,
  settings: kv.map(([key, value]) => ({ key, value, pos: expect.anything() })),
});

describe('sysctl and echo', () => {
  table([
    ['sysctl -w net.ipv4.ip_forward=1', sysctl(null, ['net.ipv4.ip_forward', '1'])],
    ['sysctl net.ipv4.conf.all.forwarding=1', sysctl(null, ['net.ipv4.conf.all.forwarding', '1'])],
    [
      'sysctl -w net.ipv4.conf.eth0.rp_filter=0 net.bridge.bridge-nf-call-iptables=1',
      sysctl(null, ['net.ipv4.conf.eth0.rp_filter', '0'], ['net.bridge.bridge-nf-call-iptables', '1']),
    ],
    ['sysctl -q -w net.ipv4.conf.all.arp_ignore=1', sysctl(null, ['net.ipv4.conf.all.arp_ignore', '1'])],
    ['sysctl -qw net/ipv4/ip_forward=1', sysctl(null, ['net.ipv4.ip_forward', '1'])],
    ['sysctl -w net/ipv4/conf/eth0.100/rp_filter=2', sysctl(null, ['net.ipv4.conf.eth0/100.rp_filter', '2'])],
    ['sysctl -w "net.ipv4.ping_group_range=0 2147483647"', sysctl(null, ['net.ipv4.ping_group_range', '0 2147483647'])],
    ['echo 1 > /proc/sys/net/ipv4/ip_forward', sysctl(null, ['net.ipv4.ip_forward', '1'])],
    ['echo 1 >/proc/sys/net/ipv4/conf/all/forwarding', sysctl(null, ['net.ipv4.conf.all.forwarding', '1'])],
    ['echo "0 0" > /proc/sys/net/ipv4/ping_group_range', sysctl(null, ['net.ipv4.ping_group_range', '0 0'])],
    ['echo -n 0 > /proc/sys/net/ipv4/conf/eth0.100/rp_filter', sysctl(null, ['net.ipv4.conf.eth0/100.rp_filter', '0'])],
  ]);
});

describe('prefix forms', () => {
  table([
    ['ip -n a link set eth0 up', { kind: 'linkSet', ns: 'a', dev: 'eth0', up: true }],
    ['ip -netns a link set eth0 up', { kind: 'linkSet', ns: 'a', dev: 'eth0', up: true }],
    ['ip --netns a l s eth0 up', { kind: 'linkSet', ns: 'a', dev: 'eth0', up: true }],
    [
      'ip -4 -n a addr add 10.0.0.1/24 dev eth0',
      { kind: 'addrAdd', ns: 'a', dev: 'eth0', cidr: cidr('10.0.0.1/24'), scope: 'global' },
    ],
    ['ip -f inet -n a route del default', route({ ns: 'a', op: 'del', dst: cidr('0.0.0.0/0') })],
    ['ip netns exec a ip link set eth0 up', { kind: 'linkSet', ns: 'a', dev: 'eth0', up: true }],
    ['ip netns exec a sysctl -w net.ipv4.ip_forward=1', sysctl('a', ['net.ipv4.ip_forward', '1'])],
    ['ip netns exec a echo 1 > /proc/sys/net/ipv4/ip_forward', sysctl('a', ['net.ipv4.ip_forward', '1'])],
    [
      'ip netns exec br bridge link set dev veth0 hairpin on',
      { kind: 'bridgeLinkSet', ns: 'br', dev: 'veth0', hairpin: true },
    ],
    ['ip netns exec a ip netns exec b ip link set lo up', { kind: 'linkSet', ns: 'b', dev: 'lo', up: true }],
    ['ip -n a netns exec b ip link set lo up', { kind: 'linkSet', ns: 'b', dev: 'lo', up: true }],
    ['ip netns e a ip -n b l s lo up', { kind: 'linkSet', ns: 'b', dev: 'lo', up: true }],
    [
      'bridge -n a fdb add 02:42:ac:11:00:02 dev vxlan0',
      fdb({ ns: 'a', kind: 'fdbAdd', op: 'add', dev: 'vxlan0', state: 'permanent' }),
    ],
    ['sudo ip link set eth0 up', { kind: 'linkSet', ns: null, dev: 'eth0', up: true }],
    ['sudo ip netns exec a sudo sysctl -w net.ipv4.ip_forward=1', sysctl('a', ['net.ipv4.ip_forward', '1'])],
  ]);

  it('positions a command at its first character, prefix included', () => {
    const cmd = parseCommand('  ip netns exec a ip link set eth0 up', 'f.yaml', 7, 5);
    expect(cmd.pos).toEqual({ file: 'f.yaml', line: 7, col: 7 });
    const s = parseCommand('sysctl -w a.b=1 c.d=2', 'f.yaml', 2, 3);
    expect(s.kind === 'sysctl' && s.settings.map((x) => x.pos.col)).toEqual([13, 19]);
  });
});

describe('shell quoting', () => {
  table([
    ["ip link set 'eth0' up", { kind: 'linkSet', ns: null, dev: 'eth0', up: true }],
    ['ip link set "eth0" up # bring it up', { kind: 'linkSet', ns: null, dev: 'eth0', up: true }],
    ['ip link set e\\th0 up', { kind: 'linkSet', ns: null, dev: 'eth0', up: true }],
    ['ip link set eth0 \\\n  up', { kind: 'linkSet', ns: null, dev: 'eth0', up: true }],
    ['ip link set e"th"\'0\' up', { kind: 'linkSet', ns: null, dev: 'eth0', up: true }],
  ]);
});
