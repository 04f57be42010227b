// Forwarding through router namespaces: ip_forward, TTL decrement and time exceeded, ICMP unreachables, path MTU
// (frag-needed for DF packets) and fragmentation with reassembly for packets without DF. Linux behaviour as recorded
// in tools/kernel-lab/NOTES.md §1, §3, §5 and §6.

import { describe, expect } from 'vitest';
import { cases, icmpOf, ipFrames } from './harness.js';

/** left (10.0.1.2) — router (10.0.1.1 | 10.0.2.1) — right (10.0.2.2). */
function router(forward: 0 | 1, extra: string[] = []): string[] {
  return [
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
    `ip netns exec router sysctl -w net.ipv4.ip_forward=${forward}`,
    ...extra,
  ];
}

/** a (10.0.1.2) — r1 (10.0.1.1 | 10.0.2.1) — r2 (10.0.2.2 | 10.0.3.1) — b (10.0.3.2). */
const CHAIN = [
  'ip netns add a',
  'ip netns add r1',
  'ip netns add r2',
  'ip netns add b',
  'ip link add eth0 netns a type veth peer name eth0 netns r1',
  'ip link add eth1 netns r1 type veth peer name eth0 netns r2',
  'ip link add eth1 netns r2 type veth peer name eth0 netns b',
  'ip -n a addr add 10.0.1.2/24 dev eth0',
  'ip -n r1 addr add 10.0.1.1/24 dev eth0',
  'ip -n r1 addr add 10.0.2.1/24 dev eth1',
  'ip -n r2 addr add 10.0.2.2/24 dev eth0',
  'ip -n r2 addr add 10.0.3.1/24 dev eth1',
  'ip -n b addr add 10.0.3.2/24 dev eth0',
  'ip -n a link set eth0 up',
  'ip -n r1 link set eth0 up',
  'ip -n r1 link set eth1 up',
  'ip -n r2 link set eth0 up',
  'ip -n r2 link set eth1 up',
  'ip -n b link set eth0 up',
  'ip -n a link set lo up',
  'ip -n a route add default via 10.0.1.1',
  'ip -n b route add default via 10.0.3.1',
  'ip -n r1 route add 10.0.3.0/24 via 10.0.2.2',
  'ip -n r2 route add 10.0.1.0/24 via 10.0.2.1',
  'ip netns exec r1 sysctl -w net.ipv4.ip_forward=1',
  'ip netns exec r2 sysctl -w net.ipv4.ip_forward=1',
];

describe('ip_forward', () => {
  cases([
    {
      name: 'on: the router forwards, the reply arrives with TTL 63',
      setup: router(1),
      action: { ping: { from: 'left', to: '10.0.2.2' } },
      expect: {
        result: 'reachable',
        replyFrom: '10.0.2.2',
        replyTtl: 63,
        via: ['router:eth-left', 'router:eth-right', 'right:eth0'],
      },
      check: (r) => {
        const fwd = ipFrames(r, { ns: 'router', dev: 'eth-right', dir: 'tx' })[0]!;
        expect(fwd.ip.ttl).toBe(63);
      },
    },
    {
      name: 'off: silent drop (no ICMP), reason FORWARDING_DISABLED on the input device',
      setup: router(0),
      action: { ping: { from: 'left', to: '10.0.2.2' } },
      expect: {
        result: 'timeout',
        drops: [{ reason: 'FORWARDING_DISABLED', ns: 'router', dev: 'eth-left' }],
        notVia: ['router:eth-right', 'right:eth0'],
        icmpSent: [],
      },
    },
    {
      name: 'off, and no route either: still silent (ip_error sends nothing when the input device does not forward)',
      setup: router(0),
      action: { ping: { from: 'left', to: '10.9.9.9' } },
      expect: { result: 'timeout', drops: [{ reason: 'FORWARDING_DISABLED', ns: 'router' }], icmpSent: [] },
    },
    {
      name: 'off: the router still answers for its own far address',
      setup: router(0),
      action: { ping: { from: 'left', to: '10.0.2.1' } },
      expect: { result: 'reachable', replyFrom: '10.0.2.1', replyTtl: 64, notVia: ['router:eth-right'] },
    },
  ]);
});

describe('TTL', () => {
  cases([
    {
      name: 'TTL 1 expires at the first router: time exceeded from its address toward the sender',
      setup: router(1),
      action: { ping: { from: 'left', to: '10.0.2.2', ttl: 1 } },
      expect: {
        result: 'unreachable',
        icmp: 'time-exceeded',
        replyFrom: '10.0.1.1',
        replyTtl: 64,
        lines: ['From 10.0.1.1 icmp_seq=1 Time to live exceeded'],
        drops: [{ reason: 'TTL_EXPIRED', ns: 'router', dev: 'eth-left' }],
        notVia: ['router:eth-right'],
      },
      check: (r) => {
        const err = ipFrames(r, { ns: 'left', dev: 'eth0', dir: 'rx' }).find((f) => f.ip.protocol === 1)!;
        // NOTES §1: tos 0xc0, DF clear, TTL 64; the quoted header shows TTL 1 as received.
        expect(err.ip.tos).toBe(0xc0);
        expect(err.ip.df).toBe(false);
        expect(err.ip.ttl).toBe(64);
        const icmp = icmpOf(err);
        expect([icmp.type, icmp.code]).toEqual([11, 0]);
        expect(icmp.payload[8]).toBe(1);
      },
    },
    {
      name: 'TTL 2 across two routers expires at the second, answered from its address on the way back',
      setup: CHAIN,
      action: { ping: { from: 'a', to: '10.0.3.2', ttl: 2 } },
      expect: {
        result: 'unreachable',
        icmp: 'time-exceeded',
        replyFrom: '10.0.2.2',
        replyTtl: 63,
        drops: [{ reason: 'TTL_EXPIRED', ns: 'r2', dev: 'eth0' }],
        icmpSent: [{ ns: 'r2', kind: 'time exceeded in-transit', to: '10.0.1.2' }],
      },
    },
    {
      name: 'TTL 3 is enough: the reply crosses both routers (TTL 62)',
      setup: CHAIN,
      action: { ping: { from: 'a', to: '10.0.3.2', ttl: 3 } },
      expect: { result: 'reachable', replyFrom: '10.0.3.2', replyTtl: 62 },
    },
    {
      name: 'a routing loop ends in time exceeded from the router that receives TTL 1 (NOTES §5)',
      setup: [
        'ip netns add a',
        'ip netns add r1',
        'ip netns add r2',
        'ip link add eth0 netns a type veth peer name eth0 netns r1',
        'ip link add eth1 netns r1 type veth peer name eth0 netns r2',
        'ip -n a addr add 10.0.1.2/24 dev eth0',
        'ip -n r1 addr add 10.0.1.1/24 dev eth0',
        'ip -n r1 addr add 10.0.2.1/24 dev eth1',
        'ip -n r2 addr add 10.0.2.2/24 dev eth0',
        'ip -n a link set eth0 up',
        'ip -n a link set lo up',
        'ip -n r1 link set eth0 up',
        'ip -n r1 link set eth1 up',
        'ip -n r2 link set eth0 up',
        'ip -n a route add default via 10.0.1.1',
        'ip -n r1 route add 10.9.0.0/16 via 10.0.2.2',
        'ip -n r2 route add 10.9.0.0/16 via 10.0.2.1',
        'ip -n r2 route add 10.0.1.0/24 via 10.0.2.1',
        'ip netns exec r1 sysctl -w net.ipv4.ip_forward=1',
        'ip netns exec r2 sysctl -w net.ipv4.ip_forward=1',
      ],
      action: { ping: { from: 'a', to: '10.9.0.1' } },
      expect: {
        result: 'unreachable',
        icmp: 'time-exceeded',
        replyFrom: '10.0.2.2',
        replyTtl: 63,
        drops: [{ reason: 'TTL_EXPIRED', ns: 'r2' }],
      },
    },
  ]);
});

describe('ICMP unreachables from a router', () => {
  cases([
    {
      name: 'no route: net unreachable at once from the router address facing the sender',
      setup: router(1),
      action: { tcp: { from: 'left', to: '10.9.9.9', port: 80 } },
      expect: {
        result: 'unreachable',
        icmp: 'net-unreachable',
        replyFrom: '10.0.1.1',
        drops: [{ reason: 'NO_ROUTE', ns: 'router' }],
      },
      check: (r) => expect(r.k.now - r.t0).toBeLessThan(1e9),
    },
    {
      name: 'ARP failure at the router: host unreachable after ~3 s, quoting the decremented TTL 63',
      setup: router(1),
      action: { ping: { from: 'left', to: '10.0.2.77' } },
      expect: {
        result: 'unreachable',
        icmp: 'host-unreachable',
        replyFrom: '10.0.1.1',
        lines: ['From 10.0.1.1 icmp_seq=1 Destination Host Unreachable'],
        drops: [{ reason: 'NEIGH_FAILED', ns: 'router', dev: 'eth-right' }],
      },
      check: (r) => {
        const err = ipFrames(r, { ns: 'left', dev: 'eth0', dir: 'rx' }).find((f) => f.ip.protocol === 1)!;
        expect(err.frame.t - r.t0).toBeGreaterThanOrEqual(3e9);
        expect(err.frame.t - r.t0).toBeLessThan(3.2e9);
        expect(icmpOf(err).payload[8]).toBe(63);
        // Three broadcast ARP requests, one second apart, on the router's far side.
        const arp = r.frames.filter((f) => f.ns === 'router' && f.dev === 'eth-right' && f.dir === 'tx');
        expect(arp.map((f) => Math.round((f.t - r.t0) / 1e9))).toEqual([0, 1, 2]);
      },
    },
  ]);
});

describe('path MTU and fragmentation', () => {
  cases([
    {
      name: 'a DF packet bigger than the next link: frag-needed carrying the next-hop MTU',
      setup: router(1, ['ip -n router link set eth-right mtu 1400', 'ip -n right link set eth0 mtu 1400']),
      action: { ping: { from: 'left', to: '10.0.2.2', size: 1472 } },
      expect: {
        result: 'unreachable',
        icmp: 'frag-needed',
        replyFrom: '10.0.1.1',
        lines: ['From 10.0.1.1 icmp_seq=1 Frag needed and DF set (mtu = 1400)'],
        drops: [{ reason: 'PKT_TOO_BIG', ns: 'router' }],
        notVia: ['router:eth-right'],
      },
      check: (r) => {
        const err = ipFrames(r, { ns: 'left', dev: 'eth0', dir: 'rx' }).find((f) => f.ip.protocol === 1)!;
        const icmp = icmpOf(err);
        expect([icmp.type, icmp.code, icmp.rest & 0xffff]).toEqual([3, 4, 1400]);
        // The quote stops at 576 bytes in all (NOTES §1).
        expect(err.ip.totalLength).toBe(576);
      },
    },
    {
      name: 'the route MTU counts, not only the device MTU',
      setup: router(1, ['ip -n router route add 10.0.2.2/32 dev eth-right mtu 1300']),
      action: { ping: { from: 'left', to: '10.0.2.2', size: 1300 } },
      expect: { result: 'unreachable', icmp: 'frag-needed', lines: [/mtu = 1300\)$/] },
    },
    {
      name: 'a DF packet that fits is forwarded',
      setup: router(1, ['ip -n router link set eth-right mtu 1400', 'ip -n right link set eth0 mtu 1400']),
      action: { ping: { from: 'left', to: '10.0.2.2', size: 1372 } },
      expect: { result: 'reachable', replyTtl: 63 },
    },
    {
      name: 'without DF the sender fragments (8-byte multiples, one IP id, MF on all but the last) and the reply is reassembled',
      setup: router(1),
      action: { ping: { from: 'left', to: '10.0.2.2', size: 3000, df: false } },
      expect: {
        result: 'reachable',
        replyFrom: '10.0.2.2',
        replyTtl: 63,
        lines: [/^3008 bytes from 10\.0\.2\.2: icmp_seq=1 ttl=63/],
        noDrops: ['PKT_TOO_BIG'],
      },
      check: (r) => {
        const out = ipFrames(r, { ns: 'left', dev: 'eth0', dir: 'tx' });
        expect(out.map((f) => [f.ip.totalLength, f.ip.fragOffset, f.ip.mf, f.ip.df])).toEqual([
          [1500, 0, true, false],
          [1500, 1480, true, false],
          [68, 2960, false, false],
        ]);
        expect(new Set(out.map((f) => f.ip.id)).size).toBe(1);
        // The router forwards the fragments as they are (no reassembly on the way), TTL decremented.
        const fwd = ipFrames(r, { ns: 'router', dev: 'eth-right', dir: 'tx' }).filter((f) => f.ip.src === 0x0a000102);
        expect(fwd.map((f) => [f.ip.totalLength, f.ip.ttl])).toEqual([
          [1500, 63],
          [1500, 63],
          [68, 63],
        ]);
        // The echo reply (no DF) is fragmented by right and reassembled by left.
        const back = ipFrames(r, { ns: 'left', dev: 'eth0', dir: 'rx' });
        expect(back.map((f) => [f.ip.totalLength, f.ip.fragOffset, f.ip.mf])).toEqual([
          [1500, 0, true],
          [1500, 1480, true],
          [68, 2960, false],
        ]);
      },
    },
    {
      name: 'without DF a router fragments for a smaller next link',
      setup: router(1, ['ip -n router link set eth-right mtu 1400', 'ip -n right link set eth0 mtu 1400']),
      action: { ping: { from: 'left', to: '10.0.2.2', size: 1472, df: false } },
      expect: { result: 'reachable', replyTtl: 63, noDrops: ['PKT_TOO_BIG'] },
      check: (r) => {
        expect(ipFrames(r, { ns: 'left', dev: 'eth0', dir: 'tx' }).map((f) => f.ip.totalLength)).toEqual([1500]);
        const fwd = ipFrames(r, { ns: 'router', dev: 'eth-right', dir: 'tx' }).filter((f) => f.ip.src === 0x0a000102);
        expect(fwd.map((f) => [f.ip.totalLength, f.ip.fragOffset, f.ip.mf])).toEqual([
          [1396, 0, true],
          [124, 1376, false],
        ]);
      },
    },
  ]);
});
