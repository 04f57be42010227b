// Kernel parameters: refusals (unknown keys, values Linux rejects, values podwire does not model), the settings
// the stack honours (ip_default_ttl, icmp_echo_ignore_all), and forwarding per input device, including how writing
// `all` propagates to the devices (devinet_sysctl_forward, only on a change — checked in a real namespace).

import { describe, expect, it } from 'vitest';
import { topology } from '../../src/index.js';
import { cases, ipFrames } from './harness.js';

const ROUTER = [
  'ip netns add left',
  'ip netns add router',
  'ip netns add right',
  'ip link add eth0 netns left type veth peer name eth-left netns router',
  'ip link add eth0 netns right type veth peer name eth-right netns router',
  'ip -n left addr add 10.0.1.2/24 dev eth0',
  'ip -n right addr add 10.0.2.2/24 dev eth0',
  'ip -n router addr add 10.0.1.1/24 dev eth-left',
  'ip -n router addr add 10.0.2.1/24 dev eth-right',
  'ip -n left link set eth0 up',
  'ip -n right link set eth0 up',
  'ip -n router link set eth-left up',
  'ip -n router link set eth-right up',
  'ip -n left route add default via 10.0.1.1',
  'ip -n right route add default via 10.0.2.1',
];

describe('refusals', () => {
  const refused: { name: string; line: string; error: string | RegExp }[] = [
    {
      name: 'an unknown key',
      line: 'sysctl -w net.ipv4.nonexistent=1',
      error: 'sysctl: cannot stat /proc/sys/net/ipv4/nonexistent: No such file or directory',
    },
    {
      name: 'a per-device key of a device that does not exist',
      line: 'sysctl -w net.ipv4.conf.eth9.forwarding=1',
      error: 'sysctl: cannot stat /proc/sys/net/ipv4/conf/eth9/forwarding: No such file or directory',
    },
    {
      name: 'a value out of range (ip_default_ttl 0)',
      line: 'sysctl -w net.ipv4.ip_default_ttl=0',
      error: 'sysctl: setting key "net.ipv4.ip_default_ttl": Invalid argument',
    },
    {
      name: 'ip_default_ttl 256',
      line: 'sysctl -w net.ipv4.ip_default_ttl=256',
      error: 'sysctl: setting key "net.ipv4.ip_default_ttl": Invalid argument',
    },
    {
      name: 'a value that is not a number',
      line: 'sysctl -w net.ipv4.ip_forward=abc',
      error: 'sysctl: setting key "net.ipv4.ip_forward": Invalid argument',
    },
    {
      name: 'a reversed port range',
      line: 'sysctl -w net.ipv4.ip_local_port_range="100 50"',
      error: 'sysctl: setting key "net.ipv4.ip_local_port_range": Invalid argument',
    },
    {
      name: 'rp_filter=1 (reverse-path filtering is not modelled)',
      line: 'sysctl -w net.ipv4.conf.all.rp_filter=1',
      error: /rp_filter=1 is not supported: reverse-path filtering is not modelled/,
    },
    {
      name: 'proxy_arp=1 (not modelled)',
      line: 'sysctl -w net.ipv4.conf.all.proxy_arp=1',
      error: /proxy_arp=1 is not supported: proxy ARP is not modelled/,
    },
    {
      name: 'arp_ignore=8 (only 0, 1 and 2 are modelled)',
      line: 'sysctl -w net.ipv4.conf.default.arp_ignore=8',
      error: /arp_ignore=8 is not supported/,
    },
  ];
  for (const c of refused)
    it(`refuses ${c.name}`, () => {
      expect(() => topology([c.line])).toThrow(c.error);
    });

  it('accepts the modelled values and reads them back', () => {
    const k = topology([
      'sysctl -w net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0',
      'echo 3 > /proc/sys/net/ipv4/neigh/lo/mcast_solicit',
      'sysctl -w net.ipv4.ip_local_port_range="40000 40010"',
    ]);
    const s = k.root.sysctl;
    expect(s.get('net.ipv4.ip_forward')).toBe('1');
    expect(s.get('net.ipv4.conf.all.forwarding')).toBe('1');
    expect(s.get('net.ipv4.conf.lo.forwarding')).toBe('1');
    expect(s.get('net.ipv4.ip_local_port_range')).toBe('40000\t40010');
  });
});

describe('forwarding per device', () => {
  it('writing all.forwarding sets every device, but only when the value changes', () => {
    const k = topology([
      'ip link add p0 type veth peer name p1',
      'sysctl -w net.ipv4.ip_forward=1',
      'sysctl -w net.ipv4.conf.p0.forwarding=0',
      'sysctl -w net.ipv4.ip_forward=1',
    ]);
    const s = k.root.sysctl;
    expect([s.get('net.ipv4.conf.p0.forwarding'), s.get('net.ipv4.conf.p1.forwarding')]).toEqual(['0', '1']);
    const k2 = topology([
      'ip link add p0 type veth peer name p1',
      'sysctl -w net.ipv4.ip_forward=1',
      'sysctl -w net.ipv4.conf.p0.forwarding=0',
      'sysctl -w net.ipv4.conf.all.forwarding=0',
      'sysctl -w net.ipv4.conf.all.forwarding=1',
    ]);
    expect(k2.root.sysctl.get('net.ipv4.conf.p0.forwarding')).toBe('1');
  });

  it('a device created after ip_forward=1 forwards (it copies `default`)', () => {
    const k = topology(['sysctl -w net.ipv4.ip_forward=1', 'ip link add p0 type veth peer name p1']);
    expect(k.root.sysctl.get('net.ipv4.conf.p0.forwarding')).toBe('1');
  });

  cases([
    {
      name: 'forwarding off on the input device: left → right is dropped at the router',
      setup: [
        ...ROUTER,
        'ip netns exec router sysctl -w net.ipv4.ip_forward=1',
        'ip netns exec router sysctl -w net.ipv4.conf.eth-left.forwarding=0',
      ],
      action: { ping: { from: 'left', to: '10.0.2.2' } },
      expect: {
        result: 'timeout',
        drops: [{ reason: 'FORWARDING_DISABLED', ns: 'router', dev: 'eth-left' }],
        notVia: ['right:eth0'],
        icmpSent: [],
      },
    },
    {
      name: 'the other direction is forwarded (it enters on eth-right), only the reply dies on eth-left',
      setup: [
        ...ROUTER,
        'ip netns exec router sysctl -w net.ipv4.ip_forward=1',
        'ip netns exec router sysctl -w net.ipv4.conf.eth-left.forwarding=0',
      ],
      action: { ping: { from: 'right', to: '10.0.1.2' } },
      expect: {
        result: 'timeout',
        via: ['router:eth-right', 'router:eth-left', 'left:eth0'],
        drops: [{ reason: 'FORWARDING_DISABLED', ns: 'router', dev: 'eth-left' }],
      },
    },
    {
      name: 'forwarding on for the input device only is enough (all=0)',
      setup: [...ROUTER, 'ip netns exec router sysctl -w net.ipv4.conf.eth-left.forwarding=1'],
      action: { ping: { from: 'left', to: '10.0.2.2' } },
      expect: { result: 'timeout', via: ['right:eth0'], drops: [{ reason: 'FORWARDING_DISABLED', dev: 'eth-right' }] },
    },
  ]);
});

describe('settings the stack honours', () => {
  cases([
    {
      name: 'ip_default_ttl is the TTL of what we send (and of the peer’s own replies, from its own sysctl)',
      setup: [...ROUTER, 'ip netns exec left sysctl -w net.ipv4.ip_default_ttl=20'],
      action: { ping: { from: 'left', to: '10.0.1.1' } },
      expect: { result: 'reachable', replyTtl: 64 },
      check: (r) => {
        for (const f of ipFrames(r, { ns: 'left', dir: 'tx' })) expect(f.ip.ttl).toBe(20);
      },
    },
    {
      name: 'icmp_echo_ignore_all=1: echo requests are not answered',
      setup: [...ROUTER, 'ip netns exec router sysctl -w net.ipv4.icmp_echo_ignore_all=1'],
      action: { ping: { from: 'left', to: '10.0.1.1', waitNs: 1e9 } },
      expect: { result: 'timeout', drops: [{ reason: 'NO_SOCKET', ns: 'router' }] },
    },
    {
      name: 'ip_local_port_range bounds the ephemeral port of a client',
      setup: [
        'ip netns add a',
        'ip netns add b',
        'ip link add eth0 netns a type veth peer name eth0 netns b',
        'ip -n a addr add 10.0.0.1/24 dev eth0',
        'ip -n b addr add 10.0.0.2/24 dev eth0',
        'ip -n a link set eth0 up',
        'ip -n b link set eth0 up',
        'ip netns exec a sysctl -w net.ipv4.ip_local_port_range="40000 40001"',
      ],
      action: { tcp: { from: 'a', to: '10.0.0.2', port: 9 } },
      expect: { result: 'refused' },
      check: (r) => {
        const syn = ipFrames(r, { ns: 'a', dir: 'tx' }).find((f) => f.ip.protocol === 6)!;
        const sport = (syn.frame.data[syn.nh + 20]! << 8) | syn.frame.data[syn.nh + 21]!;
        expect([40000, 40001]).toContain(sport);
      },
    },
  ]);
});
