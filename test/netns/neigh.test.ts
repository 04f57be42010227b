// The neighbour table and ARP: resolution (INCOMPLETE, queued packets, REACHABLE), failure after mcast_solicit
// probes with ICMP host unreachable sent to ourselves over lo, static entries, REACHABLE → STALE → DELAY → PROBE,
// arp_ignore (weak host model versus answering only for the receiving interface), and `ip neigh` text.
// Linux behaviour from tools/kernel-lab/NOTES.md §2 and §9.

import { describe, expect, it } from 'vitest';
import { showNeigh } from '../../src/index.js';
import { act, arpFrames, build, type CaseRun, cases, ipFrames } from './harness.js';

const MAC_A = '02:00:00:00:00:0a';
const MAC_B = '02:00:00:00:00:0b';

/** a (10.0.0.1) and b (10.0.0.2) on one veth, with fixed MACs; `lo` up in both unless `loUp` is false. */
function pair(extra: string[] = [], loUp = true): string[] {
  return [
    'ip netns add a',
    'ip netns add b',
    `ip link add eth0 netns a address ${MAC_A} type veth peer name eth0 netns b address ${MAC_B}`,
    'ip -n a addr add 10.0.0.1/24 dev eth0',
    'ip -n b addr add 10.0.0.2/24 dev eth0',
    'ip -n a link set eth0 up',
    'ip -n b link set eth0 up',
    ...(loUp ? ['ip -n a link set lo up', 'ip -n b link set lo up'] : []),
    ...extra,
  ];
}

/** Neighbour decisions in `ns`, as `action STATE`. */
function neighEvents(r: Pick<CaseRun, 'events'>, ns: string): string[] {
  return r.events.flatMap((e) => (e.type === 'neigh' && e.ns === ns ? [`${e.action} ${e.state}`] : []));
}

describe('resolution', () => {
  cases([
    {
      name: 'INCOMPLETE → packet queued → ARP reply → REACHABLE, then the queued packet leaves',
      setup: pair(),
      action: { ping: { from: 'a', to: '10.0.0.2' } },
      expect: { result: 'reachable', replyFrom: '10.0.0.2', replyTtl: 64 },
      check: (r) => {
        expect(neighEvents(r, 'a').slice(0, 3)).toEqual(['resolve INCOMPLETE', 'queue INCOMPLETE', 'update REACHABLE']);
        const out = r.frames.filter((f) => f.ns === 'a' && f.dev === 'eth0' && f.dir === 'tx');
        // First the broadcast ARP request, then the echo request that waited for it.
        expect(arpFrames({ frames: [out[0]!] })[0]).toMatchObject({ op: 1, tpa: '10.0.0.2', spa: '10.0.0.1' });
        expect(arpFrames({ frames: [out[0]!] })[0]!.ethDst).toBe(0xffffffffffff);
        expect(ipFrames({ frames: [out[1]!] })[0]!.ip.protocol).toBe(1);
        expect(showNeigh(r.k.netns('a'))).toBe(`10.0.0.2 dev eth0 lladdr ${MAC_B} REACHABLE \n`);
        // b learnt a from the request (STALE) and used the entry for its reply: DELAY (NOTES §9).
        expect(showNeigh(r.k.netns('b'))).toBe(`10.0.0.1 dev eth0 lladdr ${MAC_A} DELAY \n`);
      },
    },
    {
      name: 'while ARP is unanswered the entry is INCOMPLETE (no lladdr)',
      setup: pair(),
      action: { ping: { from: 'a', to: '10.0.0.77', waitNs: 1e9 } },
      expect: { result: 'timeout' },
      check: (r) => expect(showNeigh(r.k.netns('a'))).toBe('10.0.0.77 dev eth0 INCOMPLETE \n'),
    },
    {
      name: 'FAILED after 3 probes 1 s apart; every queued packet gets host unreachable from our own address over lo',
      setup: pair(),
      action: { ping: { from: 'a', to: '10.0.0.77', count: 3 } },
      expect: {
        result: 'unreachable',
        icmp: 'host-unreachable',
        replyFrom: '10.0.0.1',
        lines: [
          'From 10.0.0.1 icmp_seq=1 Destination Host Unreachable',
          'From 10.0.0.1 icmp_seq=2 Destination Host Unreachable',
          'From 10.0.0.1 icmp_seq=3 Destination Host Unreachable',
        ],
        drops: [{ reason: 'NEIGH_FAILED', ns: 'a', dev: 'eth0' }],
        via: ['a:lo'],
      },
      check: (r) => {
        const arps = arpFrames(r, { ns: 'a', dev: 'eth0', dir: 'tx' });
        expect(arps.map((x) => [Math.round((x.frame.t - r.t0) / 1e9), x.op, x.tpa, x.ethDst])).toEqual([
          [0, 1, '10.0.0.77', 0xffffffffffff],
          [1, 1, '10.0.0.77', 0xffffffffffff],
          [2, 1, '10.0.0.77', 0xffffffffffff],
        ]);
        // No echo request ever left; three errors came back over lo, 10.0.0.1 > 10.0.0.1, TTL 64, tos 0xc0.
        expect(ipFrames(r, { ns: 'a', dev: 'eth0' })).toEqual([]);
        const errs = ipFrames(r, { ns: 'a', dev: 'lo', dir: 'rx' });
        expect(errs.map((f) => [f.ip.src, f.ip.dst, f.ip.ttl, f.ip.tos])).toEqual(
          Array(3).fill([0x0a000001, 0x0a000001, 64, 0xc0]),
        );
        for (const f of errs) expect((f.frame.t - r.t0) / 1e9).toBeCloseTo(3, 1);
        expect(showNeigh(r.k.netns('a'))).toBe('10.0.0.77 dev eth0 FAILED \n');
      },
    },
    {
      name: 'with lo down the self-addressed ICMP is lost: the ping times out (NOTES §2)',
      setup: pair([], false),
      action: { ping: { from: 'a', to: '10.0.0.77' } },
      expect: {
        result: 'timeout',
        drops: [
          { reason: 'NEIGH_FAILED', ns: 'a' },
          { reason: 'DEV_DOWN', ns: 'a', dev: 'lo' },
        ],
      },
    },
    {
      name: 'a TCP connect to an address nobody owns fails with EHOSTUNREACH after ~3 s',
      setup: pair(),
      action: { tcp: { from: 'a', to: '10.0.0.77', port: 80 } },
      expect: { result: 'unreachable', icmp: 'host-unreachable', replyFrom: '10.0.0.1' },
      check: (r) => {
        expect(r.k.now - r.t0).toBeGreaterThan(3e9);
        expect(r.k.now - r.t0).toBeLessThan(3.5e9);
      },
    },
  ]);
});

describe('static entries', () => {
  cases([
    {
      name: '`nud permanent` is used as is: no ARP request at all',
      setup: pair([`ip -n a neigh add 10.0.0.2 lladdr ${MAC_B} dev eth0 nud permanent`]),
      action: { ping: { from: 'a', to: '10.0.0.2' } },
      expect: { result: 'reachable', replyFrom: '10.0.0.2' },
      check: (r) => {
        // a only answers b's request (b has to resolve a for its reply); it never asks.
        expect(arpFrames(r, { ns: 'a', dir: 'tx' }).filter((x) => x.op === 1)).toEqual([]);
        expect(neighEvents(r, 'a')[0]).toBe('hit PERMANENT');
        expect(showNeigh(r.k.netns('a'))).toBe(`10.0.0.2 dev eth0 lladdr ${MAC_B} PERMANENT \n`);
      },
    },
    {
      name: 'a wrong permanent MAC is never re-resolved: frames go to it and the peer ignores them',
      setup: pair(['ip -n a neigh add 10.0.0.2 lladdr 02:00:00:00:00:99 dev eth0 nud permanent']),
      action: { ping: { from: 'a', to: '10.0.0.2' } },
      expect: { result: 'timeout', drops: [{ reason: 'OTHERHOST', ns: 'b', dev: 'eth0' }] },
      check: (r) => expect(arpFrames(r, { ns: 'a', dir: 'tx' }).filter((x) => x.op === 1)).toEqual([]),
    },
    {
      name: '`ip neigh del` removes the entry: the next packet ARPs again',
      setup: pair([
        `ip -n a neigh add 10.0.0.2 lladdr ${MAC_B} dev eth0 nud permanent`,
        'ip -n a neigh del 10.0.0.2 dev eth0',
      ]),
      action: { ping: { from: 'a', to: '10.0.0.2' } },
      expect: { result: 'reachable' },
      check: (r) => expect(arpFrames(r, { ns: 'a', dir: 'tx' }).map((x) => x.tpa)).toEqual(['10.0.0.2']),
    },
  ]);

  it('a duplicate `ip neigh add` is refused', () => {
    expect(() =>
      build({
        setup: pair([
          `ip -n a neigh add 10.0.0.2 lladdr ${MAC_B} dev eth0 nud permanent`,
          `ip -n a neigh add 10.0.0.2 lladdr ${MAC_B} dev eth0 nud permanent`,
        ]),
      }),
    ).toThrow('RTNETLINK answers: File exists');
  });

  it('`ip neigh` text for the static states (checked in a real namespace)', () => {
    const k = build({
      setup: pair([
        'ip -n a neigh add 10.0.0.50 lladdr 02:00:00:00:00:50 dev eth0 nud permanent',
        'ip -n a neigh add 10.0.0.51 lladdr 02:00:00:00:00:51 dev eth0 nud reachable',
        'ip -n a neigh add 10.0.0.52 lladdr 02:00:00:00:00:52 dev eth0 nud stale',
      ]),
    });
    // Linux lists them in hash order; podwire in creation order (documented in src/netns/show.ts).
    expect(showNeigh(k.netns('a')).split('\n').sort()).toEqual(
      [
        '',
        '10.0.0.50 dev eth0 lladdr 02:00:00:00:00:50 PERMANENT ',
        '10.0.0.51 dev eth0 lladdr 02:00:00:00:00:51 REACHABLE ',
        '10.0.0.52 dev eth0 lladdr 02:00:00:00:00:52 STALE ',
      ].sort(),
    );
  });

  it('a device going down flushes its dynamic entries and keeps permanent ones', () => {
    const k = build({ setup: pair([`ip -n a neigh add 10.0.0.50 lladdr 02:00:00:00:00:50 dev eth0 nud permanent`]) });
    act(k, { ping: { from: 'a', to: '10.0.0.2' } });
    expect(showNeigh(k.netns('a'))).toContain('10.0.0.2 dev eth0');
    const k2 = build({
      setup: pair([
        'ip -n a neigh add 10.0.0.50 lladdr 02:00:00:00:00:50 dev eth0 nud permanent',
        'ip -n a neigh add 10.0.0.51 lladdr 02:00:00:00:00:51 dev eth0 nud reachable',
        'ip -n a link set eth0 down',
      ]),
    });
    expect(showNeigh(k2.netns('a'))).toBe('10.0.0.50 dev eth0 lladdr 02:00:00:00:00:50 PERMANENT \n');
  });
});

describe('ageing', () => {
  it('REACHABLE turns STALE within [base/2, 3·base/2) of base_reachable_time (30 s)', () => {
    const k = build({ setup: pair() });
    act(k, { ping: { from: 'a', to: '10.0.0.2' } });
    const t0 = k.now;
    k.run(t0 + 14.5e9);
    expect(showNeigh(k.netns('a'))).toContain('REACHABLE');
    k.run(t0 + 45.5e9);
    expect(showNeigh(k.netns('a'))).toBe(`10.0.0.2 dev eth0 lladdr ${MAC_B} STALE \n`);
  });

  it('base_reachable_time_ms is taken from the per-device sysctl', () => {
    const k = build({ setup: pair(['ip netns exec a sysctl -w net.ipv4.neigh.eth0.base_reachable_time_ms=2000']) });
    act(k, { ping: { from: 'a', to: '10.0.0.2' } });
    k.run(k.now + 3e9);
    expect(showNeigh(k.netns('a'))).toContain('STALE');
  });

  it('a STALE entry is used at once (DELAY, no ARP first), then confirmed by a unicast probe after 5 s', () => {
    const k = build({ setup: pair() });
    act(k, { ping: { from: 'a', to: '10.0.0.2' } });
    k.run(k.now + 46e9);
    const r = act(k, { ping: { from: 'a', to: '10.0.0.2' } });
    expect(r.probe.outcome.result).toBe('reachable');
    expect(arpFrames(r, { ns: 'a', dir: 'tx' })).toEqual([]);
    expect(neighEvents(r, 'a')[0]).toBe('hit DELAY');
    expect(showNeigh(k.netns('a'))).toContain('DELAY');
    const from = k.tracer.events.length;
    k.run(k.now + 6e9);
    const probes = k.tracer.events
      .slice(from)
      .filter((e) => e.type === 'stage' && e.ns === 'a' && e.stage === 'arpSolicit')
      .map((e) => (e.type === 'stage' ? e.detail : ''));
    expect(probes).toEqual(['who-has 10.0.0.2 tell 10.0.0.1 (unicast probe)']);
    expect(showNeigh(k.netns('a'))).toBe(`10.0.0.2 dev eth0 lladdr ${MAC_B} REACHABLE \n`);
  });
});

describe('arp_ignore', () => {
  /** b also owns 10.9.9.9 on a second interface (eth1), and 10.5.5.5/24 as a second address on eth0. a reaches both
   * with device routes, so it ARPs for them on the shared link. */
  const setup = (sysctls: string[]) =>
    pair([
      'ip link add eth1 netns b type veth peer name x0',
      'ip -n b addr add 10.9.9.9/24 dev eth1',
      'ip -n b link set eth1 up',
      'ip -n b addr add 10.5.5.5/24 dev eth0',
      'ip -n a route add 10.9.9.9/32 dev eth0',
      'ip -n a route add 10.5.5.5/32 dev eth0',
      ...sysctls.map((s) => `ip netns exec b sysctl -w ${s}`),
    ]);
  cases([
    {
      name: 'arp_ignore=0 (weak host): b answers ARP on eth0 for its eth1 address',
      setup: setup([]),
      action: { ping: { from: 'a', to: '10.9.9.9' } },
      expect: { result: 'reachable', replyFrom: '10.9.9.9' },
      check: (r) => {
        const replies = arpFrames(r, { ns: 'b', dev: 'eth0', dir: 'tx' }).filter((x) => x.op === 2);
        expect(replies.map((x) => x.spa)).toEqual(['10.9.9.9']);
      },
    },
    {
      name: 'arp_ignore=1 on the interface: no answer for an address of another interface',
      setup: setup(['net.ipv4.conf.eth0.arp_ignore=1']),
      action: { ping: { from: 'a', to: '10.9.9.9' } },
      expect: { result: 'unreachable', icmp: 'host-unreachable', replyFrom: '10.0.0.1' },
      check: (r) => expect(arpFrames(r, { ns: 'b', dir: 'tx' }).filter((x) => x.op === 2)).toEqual([]),
    },
    {
      name: 'arp_ignore=1 in `all` counts too (the maximum of all and the device)',
      setup: setup(['net.ipv4.conf.all.arp_ignore=1']),
      action: { ping: { from: 'a', to: '10.9.9.9' } },
      expect: { result: 'unreachable', icmp: 'host-unreachable' },
    },
    {
      name: 'arp_ignore=1 still answers for an address on the receiving interface',
      setup: setup(['net.ipv4.conf.eth0.arp_ignore=1']),
      action: { ping: { from: 'a', to: '10.5.5.5' } },
      expect: { result: 'reachable', replyFrom: '10.5.5.5' },
    },
    {
      name: 'arp_ignore=2 also needs the sender inside that address’s subnet',
      setup: setup(['net.ipv4.conf.eth0.arp_ignore=2']),
      action: { ping: { from: 'a', to: '10.5.5.5' } },
      expect: { result: 'unreachable', icmp: 'host-unreachable' },
    },
  ]);
});
