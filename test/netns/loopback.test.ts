// The loopback device: a new namespace has lo down; bringing it up gives 127.0.0.1/8 and its local routes; traffic
// to one's own addresses goes over lo whatever interface holds the address, and is lost while lo is down.
// Linux behaviour from tools/kernel-lab/NOTES.md §8, §9 and §10.

import { describe, expect, it } from 'vitest';
import { showAddrsBrief, showLinksBrief, showRoutes, topology } from '../../src/index.js';
import { RT_TABLE_LOCAL } from '../../src/netns/fib.js';
import { cases, icmpOf, ipFrames } from './harness.js';

function host(loUp: boolean): string[] {
  return [
    'ip netns add a',
    'ip netns add b',
    'ip link add eth0 netns a type veth peer name eth0 netns b',
    'ip -n a addr add 10.0.1.2/24 dev eth0',
    'ip -n a link set eth0 up',
    'ip -n b link set eth0 up',
    ...(loUp ? ['ip -n a link set lo up'] : []),
  ];
}

describe('loopback device', () => {
  it('a new namespace has only lo, ifindex 1, down', () => {
    const k = topology(['ip netns add a']);
    expect(showLinksBrief(k.netns('a'))).toBe('lo               DOWN           00:00:00:00:00:00 <LOOPBACK> \n');
    expect(k.netns('a').lo.ifindex).toBe(1);
    expect(showAddrsBrief(k.netns('a'))).toBe('lo               DOWN           \n');
  });

  it('coming up, lo gets 127.0.0.1/8 and the loopback routes in table local', () => {
    const k = topology(['ip netns add a', 'ip -n a link set lo up']);
    expect(showLinksBrief(k.netns('a'))).toBe(
      'lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP> \n',
    );
    // Linux also lists ::1/128 (IPv6 is not modelled).
    expect(showAddrsBrief(k.netns('a'))).toBe('lo               UNKNOWN        127.0.0.1/8 \n');
    expect(showRoutes(k.netns('a'), RT_TABLE_LOCAL)).toBe(
      'local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1 \n' +
        'local 127.0.0.1 dev lo proto kernel scope host src 127.0.0.1 \n' +
        'broadcast 127.255.255.255 dev lo proto kernel scope link src 127.0.0.1 \n',
    );
    expect(showRoutes(k.netns('a'))).toBe('');
  });

  it('taken down, lo keeps its address but loses its routes; up again restores them', () => {
    const k = topology(['ip netns add a', 'ip -n a link set lo up', 'ip -n a link set lo down']);
    expect(showAddrsBrief(k.netns('a'))).toBe('lo               DOWN           127.0.0.1/8 \n');
    expect(showRoutes(k.netns('a'), RT_TABLE_LOCAL)).toBe('');
    const k2 = topology([
      'ip netns add a',
      'ip -n a link set lo up',
      'ip -n a link set lo down',
      'ip -n a link set lo up',
    ]);
    expect(showAddrsBrief(k2.netns('a'))).toBe('lo               UNKNOWN        127.0.0.1/8 \n');
    expect(showRoutes(k2.netns('a'), RT_TABLE_LOCAL).split('\n')).toHaveLength(4);
  });

  it('the initial namespace starts with lo up, as a booted host', () => {
    const k = topology([]);
    expect(showAddrsBrief(k.root)).toBe('lo               UNKNOWN        127.0.0.1/8 \n');
  });
});

describe('traffic to ourselves', () => {
  cases([
    {
      name: 'pinging our own veth address goes over lo, nothing on the veth',
      setup: host(true),
      action: { ping: { from: 'a', to: '10.0.1.2' } },
      expect: { result: 'reachable', replyFrom: '10.0.1.2', replyTtl: 64, via: ['a:lo'], notVia: ['a:eth0', 'b:eth0'] },
      check: (r) => {
        // tcpdump on lo shows each packet once, incoming (NOTES §8).
        const lo = ipFrames(r, { ns: 'a', dev: 'lo' });
        expect(lo.map((f) => [f.frame.dir, icmpOf(f).type, f.ip.src, f.ip.dst, f.ip.ttl])).toEqual([
          ['rx', 8, 0x0a000102, 0x0a000102, 64],
          ['rx', 0, 0x0a000102, 0x0a000102, 64],
        ]);
        expect(r.frames.filter((f) => f.dev !== 'lo')).toEqual([]);
      },
    },
    {
      name: '127.0.0.1 answers while lo is up',
      setup: host(true),
      action: { ping: { from: 'a', to: '127.0.0.1' } },
      expect: { result: 'reachable', replyFrom: '127.0.0.1', via: ['a:lo'] },
    },
    {
      name: 'any 127/8 address is local (the local 127.0.0.0/8 route)',
      setup: host(true),
      action: { ping: { from: 'a', to: '127.1.2.3' } },
      expect: { result: 'reachable', replyFrom: '127.1.2.3', via: ['a:lo'] },
    },
    {
      name: 'with lo down, 127.0.0.1 fails locally: Network is unreachable',
      setup: host(false),
      action: { ping: { from: 'a', to: '127.0.0.1' } },
      expect: { result: 'unreachable', lines: ['ping: connect: Network is unreachable'], notVia: ['a:lo'] },
    },
    {
      name: 'with lo down, pinging our own veth address gets no reply and no error (100% loss)',
      setup: host(false),
      action: { ping: { from: 'a', to: '10.0.1.2' } },
      expect: { result: 'timeout', drops: [{ reason: 'DEV_DOWN', ns: 'a', dev: 'lo' }], notVia: ['a:eth0'] },
    },
    {
      name: 'TCP to our own address with nothing listening: RST over lo, connection refused',
      setup: host(true),
      action: { tcp: { from: 'a', to: '10.0.1.2', port: 9 } },
      expect: { result: 'refused', replyFrom: '10.0.1.2', via: ['a:lo'], notVia: ['a:eth0'] },
    },
  ]);
});
