// Routing decisions of the emulated kernel: which route a packet takes (longest prefix, metric, via/dev/onlink,
// src, default), what special route types do locally and at a forwarding router, what `ip route add|del` refuses
// (iproute2's messages), what a device going down and up does to the table, and `ip route` text. Expected outputs
// were checked in real namespaces (Linux 6.18, iproute2 6.1) or come from tools/kernel-lab/NOTES.md.

import { describe, expect, it } from 'vitest';
import { showRoutes, topology } from '../../src/index.js';
import { RT_TABLE_LOCAL } from '../../src/netns/fib.js';
import { type RouteSpec, routeModify } from '../../src/netns/route.js';
import { act, arpFrames, build, type Case, cases, ipFrames } from './harness.js';

/** Host h with two links: eth1 to r1 (10.0.1.0/24), eth2 to r2 (10.0.2.0/24). r1 and r2 both own 10.9.1.5 and
 * 10.9.2.5 on lo, so which router answered shows only in the path. */
const TWO_ROUTERS = [
  'ip netns add h',
  'ip netns add r1',
  'ip netns add r2',
  'ip link add eth1 netns h type veth peer name eth0 netns r1',
  'ip link add eth2 netns h type veth peer name eth0 netns r2',
  'ip -n h addr add 10.0.1.1/24 dev eth1',
  'ip -n h addr add 10.0.2.1/24 dev eth2',
  'ip -n r1 addr add 10.0.1.254/24 dev eth0',
  'ip -n r2 addr add 10.0.2.254/24 dev eth0',
  'ip -n h link set lo up',
  'ip -n h link set eth1 up',
  'ip -n h link set eth2 up',
  'ip -n r1 link set lo up',
  'ip -n r1 link set eth0 up',
  'ip -n r2 link set lo up',
  'ip -n r2 link set eth0 up',
  'ip -n r1 addr add 10.9.1.5/32 dev lo',
  'ip -n r1 addr add 10.9.2.5/32 dev lo',
  'ip -n r2 addr add 10.9.1.5/32 dev lo',
  'ip -n r2 addr add 10.9.2.5/32 dev lo',
];

const VIA_R1 = { via: ['h:eth1', 'r1:eth0'], notVia: ['h:eth2', 'r2:eth0'] };
const VIA_R2 = { via: ['h:eth2', 'r2:eth0'], notVia: ['h:eth1', 'r1:eth0'] };

/** left — router — right, as scenarios/router.yaml, with forwarding on. */
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
  'ip -n left link set lo up',
  'ip -n right link set lo up',
  'ip -n left link set eth0 up',
  'ip -n right link set eth0 up',
  'ip -n router link set eth-left up',
  'ip -n router link set eth-right up',
  'ip -n left route add default via 10.0.1.1',
  'ip -n right route add default via 10.0.2.1',
  'ip netns exec router sysctl -w net.ipv4.ip_forward=1',
];

describe('route selection', () => {
  cases([
    {
      name: 'longest prefix wins: /24 via r2 beats /16 via r1',
      setup: [
        ...TWO_ROUTERS,
        'ip -n h route add 10.9.0.0/16 via 10.0.1.254',
        'ip -n h route add 10.9.1.0/24 via 10.0.2.254',
      ],
      action: { ping: { from: 'h', to: '10.9.1.5' } },
      expect: { result: 'reachable', replyFrom: '10.9.1.5', replyTtl: 64, ...VIA_R2 },
    },
    {
      name: 'an address outside the /24 falls back to the /16',
      setup: [
        ...TWO_ROUTERS,
        'ip -n h route add 10.9.1.0/24 via 10.0.2.254',
        'ip -n h route add 10.9.0.0/16 via 10.0.1.254',
      ],
      action: { ping: { from: 'h', to: '10.9.2.5' } },
      expect: { result: 'reachable', replyFrom: '10.9.2.5', ...VIA_R1 },
    },
    {
      name: 'equal prefixes: the lower metric wins whatever the order of addition',
      setup: [
        ...TWO_ROUTERS,
        'ip -n h route add 10.9.0.0/16 via 10.0.1.254 metric 100',
        'ip -n h route add 10.9.0.0/16 via 10.0.2.254 metric 50',
      ],
      action: { ping: { from: 'h', to: '10.9.1.5' } },
      expect: { result: 'reachable', ...VIA_R2 },
    },
    {
      name: 'deleting the preferred metric leaves the other route in use',
      setup: [
        ...TWO_ROUTERS,
        'ip -n h route add 10.9.0.0/16 via 10.0.2.254 metric 50',
        'ip -n h route add 10.9.0.0/16 via 10.0.1.254 metric 100',
        'ip -n h route del 10.9.0.0/16 metric 50',
      ],
      action: { ping: { from: 'h', to: '10.9.1.5' } },
      expect: { result: 'reachable', ...VIA_R1 },
    },
    {
      name: 'a more specific prefix wins even with a worse metric',
      setup: [
        ...TWO_ROUTERS,
        'ip -n h route add 10.9.0.0/16 via 10.0.1.254 metric 1',
        'ip -n h route add 10.9.1.5/32 via 10.0.2.254 metric 1000',
      ],
      action: { ping: { from: 'h', to: '10.9.1.5' } },
      expect: { result: 'reachable', ...VIA_R2 },
    },
    {
      name: 'default route',
      setup: [...TWO_ROUTERS, 'ip -n h route add default via 10.0.2.254'],
      action: { ping: { from: 'h', to: '10.9.2.5' } },
      expect: { result: 'reachable', replyFrom: '10.9.2.5', ...VIA_R2 },
    },
    {
      name: '`via`: ARP resolves the gateway, the packet carries the final destination',
      setup: [...TWO_ROUTERS, 'ip -n h route add 10.9.0.0/16 via 10.0.1.254'],
      action: { ping: { from: 'h', to: '10.9.1.5' } },
      expect: { result: 'reachable', ...VIA_R1 },
      check: (r) => {
        const arps = arpFrames(r, { ns: 'h', dev: 'eth1', dir: 'tx' });
        expect(arps.map((a) => `${a.op} ${a.tpa} tell ${a.spa}`)).toContain('1 10.0.1.254 tell 10.0.1.1');
        const req = ipFrames(r, { ns: 'h', dev: 'eth1', dir: 'tx' })[0]!;
        expect(req.ip.dst).toBe(0x0a090105);
      },
    },
    {
      name: '`dev` only: the destination itself is ARPed for on the link (r1 answers for its lo address)',
      setup: [...TWO_ROUTERS, 'ip -n h route add 10.9.0.0/16 dev eth1'],
      action: { ping: { from: 'h', to: '10.9.1.5' } },
      expect: { result: 'reachable', replyFrom: '10.9.1.5', ...VIA_R1 },
      check: (r) => {
        const arps = arpFrames(r, { ns: 'h', dev: 'eth1', dir: 'tx' }).filter((a) => a.op === 1);
        expect(arps.map((a) => a.tpa)).toEqual(['10.9.1.5']);
      },
    },
    {
      name: '`onlink`: a gateway outside every connected subnet is used as if on the link',
      setup: [
        ...TWO_ROUTERS,
        'ip -n r1 addr add 192.168.77.1/32 dev lo',
        'ip -n h route add 10.9.0.0/16 via 192.168.77.1 dev eth1 onlink',
      ],
      action: { ping: { from: 'h', to: '10.9.1.5' } },
      expect: { result: 'reachable', replyFrom: '10.9.1.5', ...VIA_R1 },
      check: (r) => {
        const arps = arpFrames(r, { ns: 'h', dev: 'eth1', dir: 'tx' }).filter((a) => a.op === 1);
        expect(arps.map((a) => `${a.tpa} tell ${a.spa}`)).toEqual(['192.168.77.1 tell 10.0.1.1']);
      },
    },
    {
      name: '`src` sets the source address of packets that follow the route',
      setup: [
        ...TWO_ROUTERS,
        'ip -n h route add 10.9.0.0/16 via 10.0.1.254 src 10.0.2.1',
        'ip -n r1 route add 10.0.2.0/24 via 10.0.1.1',
      ],
      action: { ping: { from: 'h', to: '10.9.1.5' } },
      expect: { result: 'reachable', replyFrom: '10.9.1.5', ...VIA_R1 },
      check: (r) => {
        const out = ipFrames(r, { ns: 'h', dev: 'eth1', dir: 'tx' });
        expect(out.length).toBeGreaterThan(0);
        for (const f of out) expect(f.ip.src).toBe(0x0a000201);
        // The reply comes back to 10.0.2.1 over eth1: the weak host model accepts it on any interface.
        const back = ipFrames(r, { ns: 'h', dev: 'eth1', dir: 'rx' });
        expect(back.map((f) => f.ip.dst)).toEqual([0x0a000201]);
      },
    },
    {
      name: 'without `src` the source is the outgoing device address (inet_select_addr)',
      setup: [...TWO_ROUTERS, 'ip -n h route add 10.9.0.0/16 via 10.0.1.254'],
      action: { ping: { from: 'h', to: '10.9.1.5' } },
      expect: { result: 'reachable' },
      check: (r) => {
        for (const f of ipFrames(r, { ns: 'h', dev: 'eth1', dir: 'tx' })) expect(f.ip.src).toBe(0x0a000101);
      },
    },
  ]);
});

describe('special routes and missing routes', () => {
  const local: Case[] = [
    {
      name: 'no route at all: ping fails locally with ENETUNREACH, nothing is sent',
      setup: TWO_ROUTERS,
      action: { ping: { from: 'h', to: '10.9.1.5' } },
      expect: { result: 'unreachable', lines: ['ping: connect: Network is unreachable'], notVia: ['h:eth1', 'h:eth2'] },
    },
    {
      name: 'local blackhole route: the client fails at once (EINVAL), nothing is sent',
      setup: [...TWO_ROUTERS, 'ip -n h route add default via 10.0.1.254', 'ip -n h route add blackhole 10.9.0.0/16'],
      action: { ping: { from: 'h', to: '10.9.1.5' } },
      expect: { result: 'unreachable', lines: ['ping: connect: Invalid argument'], notVia: ['h:eth1', 'h:eth2'] },
    },
    {
      name: 'local unreachable route: EHOSTUNREACH',
      setup: [...TWO_ROUTERS, 'ip -n h route add default via 10.0.1.254', 'ip -n h route add unreachable 10.9.0.0/16'],
      action: { ping: { from: 'h', to: '10.9.1.5' } },
      expect: { result: 'unreachable', lines: ['ping: connect: No route to host'], notVia: ['h:eth1'] },
    },
    {
      name: 'local prohibit route: EACCES (ping blames broadcast or the firewall)',
      setup: [...TWO_ROUTERS, 'ip -n h route add default via 10.0.1.254', 'ip -n h route add prohibit 10.9.0.0/16'],
      action: { ping: { from: 'h', to: '10.9.1.5' } },
      expect: {
        result: 'unreachable',
        lines: ['ping: Do you want to ping broadcast? Then -b. If not, check your local firewall rules'],
        notVia: ['h:eth1'],
      },
    },
    {
      name: 'local blackhole route: a TCP connect fails too',
      setup: [...TWO_ROUTERS, 'ip -n h route add blackhole 10.9.0.0/16'],
      action: { tcp: { from: 'h', to: '10.9.1.5', port: 80 } },
      expect: { result: 'unreachable', lines: ['connect: Invalid argument'], notVia: ['h:eth1'] },
    },
  ];
  cases(local);

  cases([
    {
      name: 'blackhole at a forwarding router: silent drop, reason BLACKHOLE, no ICMP',
      setup: [...ROUTER, 'ip -n router route add blackhole 10.9.0.0/16'],
      action: { ping: { from: 'left', to: '10.9.0.1' } },
      expect: {
        result: 'timeout',
        drops: [{ reason: 'BLACKHOLE', ns: 'router', dev: 'eth-left' }],
        icmpSent: [],
      },
    },
    {
      name: 'unreachable route at a forwarding router: ICMP host unreachable from its address toward the sender',
      setup: [...ROUTER, 'ip -n router route add unreachable 10.9.0.0/16'],
      action: { ping: { from: 'left', to: '10.9.0.1' } },
      expect: {
        result: 'unreachable',
        icmp: 'host-unreachable',
        replyFrom: '10.0.1.1',
        replyTtl: 64,
        lines: ['From 10.0.1.1 icmp_seq=1 Destination Host Unreachable'],
        drops: [{ reason: 'UNREACHABLE_ROUTE', ns: 'router' }],
        icmpSent: [{ ns: 'router', kind: 'host unreachable', to: '10.0.1.2' }],
      },
    },
    {
      name: 'prohibit route at a forwarding router: ICMP administratively prohibited (code 13)',
      setup: [...ROUTER, 'ip -n router route add prohibit 10.9.0.0/16'],
      action: { ping: { from: 'left', to: '10.9.0.1' } },
      expect: {
        result: 'unreachable',
        icmp: 'admin-prohibited',
        replyFrom: '10.0.1.1',
        lines: ['From 10.0.1.1 icmp_seq=1 Packet filtered'],
        drops: [{ reason: 'PROHIBIT_ROUTE', ns: 'router' }],
      },
      check: (r) => {
        const err = ipFrames(r, { ns: 'left', dev: 'eth0', dir: 'rx' }).find((f) => f.ip.protocol === 1)!;
        expect(err.ip.tos).toBe(0xc0);
      },
    },
    {
      name: 'forwarding router without a route: ICMP net unreachable at once, quoting TTL 64',
      setup: ROUTER,
      action: { ping: { from: 'left', to: '10.9.0.1' } },
      expect: {
        result: 'unreachable',
        icmp: 'net-unreachable',
        replyFrom: '10.0.1.1',
        lines: ['From 10.0.1.1 icmp_seq=1 Destination Net Unreachable'],
        drops: [{ reason: 'NO_ROUTE', ns: 'router' }],
      },
      check: (r) => {
        const f = ipFrames(r, { ns: 'left', dev: 'eth0', dir: 'rx' }).find((x) => x.ip.protocol === 1)!;
        const quoted = f.nh + 20 + 8;
        expect(f.frame.data[quoted + 8]).toBe(64);
        expect(f.frame.t - r.t0).toBeLessThan(1e6);
      },
    },
  ]);
});

describe('route refusals (iproute2 messages)', () => {
  const base = [
    'ip netns add a',
    'ip netns add b',
    'ip -n a link add eth0 type veth peer name eth0 netns b',
    'ip -n a addr add 10.0.0.1/24 dev eth0',
    'ip -n a link set eth0 up',
    'ip -n b link set eth0 up',
  ];
  const refused: { name: string; lines: string[]; error: string }[] = [
    {
      name: 'gateway not on a connected subnet',
      lines: ['ip -n a route add 10.9.0.0/16 via 10.5.5.5'],
      error: 'Error: Nexthop has invalid gateway.',
    },
    {
      name: 'gateway is the subnet broadcast address',
      lines: ['ip -n a route add 10.9.0.0/16 via 10.0.0.255'],
      error: 'Error: Nexthop has invalid gateway.',
    },
    {
      name: 'onlink gateway that is one of our addresses',
      lines: ['ip -n a route add 10.9.0.0/16 via 10.0.0.1 dev eth0 onlink'],
      error: 'Error: Nexthop has invalid gateway.',
    },
    {
      name: 'onlink without a device',
      lines: ['ip -n a route add 10.9.0.0/16 via 10.5.5.5 onlink'],
      error: 'Error: Nexthop device required for onlink.',
    },
    {
      name: 'duplicate prefix and metric, even with another gateway',
      lines: ['ip -n a route add 10.9.0.0/16 via 10.0.0.2', 'ip -n a route add 10.9.0.0/16 via 10.0.0.3'],
      error: 'RTNETLINK answers: File exists',
    },
    {
      name: 'del of a missing route',
      lines: ['ip -n a route del 10.99.0.0/16'],
      error: 'RTNETLINK answers: No such process',
    },
    {
      name: 'del naming the wrong gateway',
      lines: ['ip -n a route add 10.9.0.0/16 via 10.0.0.2', 'ip -n a route del 10.9.0.0/16 via 10.0.0.7'],
      error: 'RTNETLINK answers: No such process',
    },
    {
      name: 'src that is not a local address',
      lines: ['ip -n a route add 10.15.0.0/16 dev eth0 src 10.0.0.9'],
      error: 'Error: Invalid prefsrc address.',
    },
    {
      name: 'gateway behind a device that went down (its connected route is gone)',
      lines: ['ip -n a link set eth0 down', 'ip -n a route add 10.9.0.0/16 via 10.0.0.2'],
      error: 'Error: Nexthop has invalid gateway.',
    },
  ];
  for (const c of refused)
    it(`refuses: ${c.name}`, () => {
      expect(() => topology([...base, ...c.lines])).toThrow(c.error);
    });

  it('refuses host bits in the prefix (the kernel check, below the command parser)', () => {
    const k = topology(base);
    const spec: RouteSpec = {
      op: 'add',
      type: 'unicast',
      dst: 0x0a090001,
      len: 16,
      gw: 0x0a000002,
      dev: null,
      metric: null,
      prefsrc: null,
      table: 254,
      proto: null,
      scope: null,
      onlink: false,
      mtu: null,
      advmss: null,
    };
    expect(() => routeModify(k.netns('a'), spec)).toThrow('Error: Invalid prefix for given prefix length.');
  });

  const accepted: { name: string; lines: string[]; shows: string }[] = [
    {
      name: 'the same prefix with another metric',
      lines: ['ip -n a route add 10.9.0.0/16 via 10.0.0.2', 'ip -n a route add 10.9.0.0/16 via 10.0.0.3 metric 10'],
      shows: '10.9.0.0/16 via 10.0.0.3 dev eth0 metric 10 ',
    },
    {
      name: 'a gateway that is one of our own addresses (fib_check_nh accepts a local result)',
      lines: ['ip -n a route add 10.9.0.0/16 via 10.0.0.1'],
      shows: '10.9.0.0/16 via 10.0.0.1 dev eth0 ',
    },
    {
      name: 'onlink gateway anywhere',
      lines: ['ip -n a route add 10.10.0.0/16 via 10.5.5.5 dev eth0 onlink'],
      shows: '10.10.0.0/16 via 10.5.5.5 dev eth0 onlink ',
    },
  ];
  for (const c of accepted)
    it(`accepts: ${c.name}`, () => {
      const k = topology([...base, ...c.lines]);
      expect(showRoutes(k.netns('a')).split('\n')).toContain(c.shows);
    });
});

describe('routes follow the device state', () => {
  const setup = [
    'ip netns add a',
    'ip netns add b',
    'ip -n a link add eth0 type veth peer name eth0 netns b',
    'ip -n a addr add 10.0.0.1/24 dev eth0',
    'ip -n a link set eth0 up',
    'ip -n b link set eth0 up',
    'ip -n a route add 10.9.0.0/16 via 10.0.0.2',
    'ip -n a route add blackhole 10.11.0.0/16',
  ];

  it('going down flushes every route through the device (also user routes); blackholes stay', () => {
    const k = topology([...setup, 'ip -n a link set eth0 down']);
    expect(showRoutes(k.netns('a'))).toBe('blackhole 10.11.0.0/16 \n');
    expect(showRoutes(k.netns('a'), RT_TABLE_LOCAL)).toBe('');
  });

  it('coming back up re-adds the address routes only', () => {
    const k = topology([...setup, 'ip -n a link set eth0 down', 'ip -n a link set eth0 up']);
    expect(showRoutes(k.netns('a'))).toBe(
      '10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1 \nblackhole 10.11.0.0/16 \n',
    );
    expect(showRoutes(k.netns('a'), RT_TABLE_LOCAL)).toBe(
      'local 10.0.0.1 dev eth0 proto kernel scope host src 10.0.0.1 \n' +
        'broadcast 10.0.0.255 dev eth0 proto kernel scope link src 10.0.0.1 \n',
    );
  });

  it('a packet to the flushed route now fails locally', () => {
    const k = build({ setup: [...setup, 'ip -n a link set eth0 down', 'ip -n a link set eth0 up'] });
    const r = act(k, { ping: { from: 'a', to: '10.9.0.1' } });
    expect(r.probe.outcome.result).toBe('unreachable');
    expect(r.probe.outcome.lines).toContain('ping: connect: Network is unreachable');
  });

  it('an address added while the device is down gets its routes when it comes up', () => {
    const k = topology([
      'ip netns add a',
      'ip link add eth0 type veth peer name p0',
      'ip link set eth0 netns a',
      'ip -n a addr add 10.0.0.1/24 dev eth0',
      'ip link set p0 up',
    ]);
    expect(showRoutes(k.netns('a'))).toBe('');
    const k2 = topology([
      'ip netns add a',
      'ip link add eth0 type veth peer name p0',
      'ip link set eth0 netns a',
      'ip -n a addr add 10.0.0.1/24 dev eth0',
      'ip link set p0 up',
      'ip -n a link set eth0 up',
    ]);
    expect(showRoutes(k2.netns('a'))).toBe('10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1 \n');
  });

  it('a route through a veth whose peer is down is shown `linkdown`', () => {
    const k = topology([
      'ip netns add a',
      'ip netns add b',
      'ip -n a link add eth0 type veth peer name eth0 netns b',
      'ip -n a addr add 10.0.0.1/24 dev eth0',
      'ip -n a link set eth0 up',
      'ip -n a route add 10.30.0.0/16 via 10.0.0.7',
    ]);
    expect(showRoutes(k.netns('a'))).toBe(
      '10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1 linkdown \n10.30.0.0/16 via 10.0.0.7 dev eth0 linkdown \n',
    );
  });
});

describe('`ip route` text', () => {
  it('matches Linux for every route kind (checked in a real namespace)', () => {
    const k = topology([
      'ip netns add a',
      'ip netns add b',
      'ip -n a link add eth0 type veth peer name eth0 netns b',
      'ip -n a addr add 10.0.0.1/24 dev eth0',
      'ip -n a link set eth0 up',
      'ip -n b link set eth0 up',
      'ip -n a route add 10.9.0.0/16 via 10.0.0.1',
      'ip -n a route add 10.9.0.0/16 via 10.0.0.3 metric 10',
      'ip -n a route add 10.10.0.0/16 via 10.5.5.5 dev eth0 onlink',
      'ip -n a route add blackhole 10.11.0.0/16',
      'ip -n a route add unreachable 10.12.0.0/16',
      'ip -n a route add prohibit 10.13.0.0/16',
      'ip -n a route add 10.14.0.0/16 dev eth0 src 10.0.0.1',
      'ip -n a route add 10.16.0.0/16 via 10.0.0.2 mtu 1400 advmss 1000',
      'ip -n a route add default via 10.0.0.254',
    ]);
    expect(showRoutes(k.netns('a'))).toBe(
      [
        'default via 10.0.0.254 dev eth0 ',
        '10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1 ',
        '10.9.0.0/16 via 10.0.0.1 dev eth0 ',
        '10.9.0.0/16 via 10.0.0.3 dev eth0 metric 10 ',
        '10.10.0.0/16 via 10.5.5.5 dev eth0 onlink ',
        'blackhole 10.11.0.0/16 ',
        'unreachable 10.12.0.0/16 ',
        'prohibit 10.13.0.0/16 ',
        '10.14.0.0/16 dev eth0 scope link src 10.0.0.1 ',
        '10.16.0.0/16 via 10.0.0.2 dev eth0 mtu 1400 advmss 1000 ',
        '',
      ].join('\n'),
    );
  });

  // NOTES.md §9: the initial namespace with br0 10.0.0.254/24 and two pods.
  const notes9 = [
    'ip netns add a',
    'ip netns add b',
    'ip link add br0 type bridge',
    'ip link add veth-a type veth peer name eth0 netns a',
    'ip link add veth-b type veth peer name eth0 netns b',
    'ip link set veth-a master br0',
    'ip link set veth-b master br0',
    'ip addr add 10.0.0.254/24 dev br0',
    'ip link set br0 up',
    'ip link set veth-a up',
    'ip link set veth-b up',
    'ip -n a link set lo up',
    'ip -n a link set eth0 up',
    'ip -n b link set lo up',
    'ip -n b link set eth0 up',
    'ip -n a addr add 10.0.0.1/24 dev eth0',
    'ip -n b addr add 10.0.0.2/24 dev eth0',
    'ip -n a route add default via 10.0.0.254',
  ];

  it('NOTES §9: `ip route` and `ip route show table local` of the initial namespace', () => {
    const k = topology(notes9);
    expect(showRoutes(k.root)).toBe('10.0.0.0/24 dev br0 proto kernel scope link src 10.0.0.254 \n');
    expect(showRoutes(k.root, RT_TABLE_LOCAL)).toBe(
      [
        'local 10.0.0.254 dev br0 proto kernel scope host src 10.0.0.254 ',
        'broadcast 10.0.0.255 dev br0 proto kernel scope link src 10.0.0.254 ',
        'local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1 ',
        'local 127.0.0.1 dev lo proto kernel scope host src 127.0.0.1 ',
        'broadcast 127.255.255.255 dev lo proto kernel scope link src 127.0.0.1 ',
        '',
      ].join('\n'),
    );
  });

  it('NOTES §9: `ip -n a route`', () => {
    const k = topology(notes9);
    expect(showRoutes(k.netns('a'))).toBe(
      'default via 10.0.0.254 dev eth0 \n10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1 \n',
    );
  });
});
