// br_nf_pre_routing_finish: a bridged frame DNATed in PREROUTING to an address behind the same bridge stays bridged
// (TTL unchanged, destination MAC from the bridge's neighbour table, forwarded from its ingress port), reaches the
// sender's own port only in hairpin mode, and a DNAT to an address elsewhere is routed by the bridge's IP stack.

import { describe, expect, it } from 'vitest';
import { ping, runUntilDone, topology } from '../../src/index.js';
import { enableNetfilter, iptables } from '../../src/iptables/index.js';
import { parseIpv4 } from '../../src/wire/addr.js';

function build(extra: string[] = []) {
  const k = topology([
    'ip netns add a',
    'ip netns add b',
    'ip link add br0 type bridge',
    'ip addr add 10.0.0.1/24 dev br0',
    'ip link set br0 up',
    'ip link add va type veth peer name eth0 netns a',
    'ip link add vb type veth peer name eth0 netns b',
    'ip link set va master br0',
    'ip link set vb master br0',
    'ip link set va up',
    'ip link set vb up',
    'ip -n a addr add 10.0.0.2/24 dev eth0',
    'ip -n b addr add 10.0.0.3/24 dev eth0',
    'ip -n a link set eth0 up',
    'ip -n b link set eth0 up',
    'ip -n a route add default via 10.0.0.1',
    'ip -n b route add default via 10.0.0.1',
    'ip -n a link set lo up',
    'ip -n b link set lo up',
    'ip addr add 172.16.0.1/24 dev lo',
    ...extra,
  ]);
  enableNetfilter(k);
  return k;
}

describe('DNAT in bridged PREROUTING', () => {
  it('to an endpoint on the same bridge: stays bridged, TTL unchanged', () => {
    const k = build();
    const root = k.netns('root');
    iptables(root, [
      '-t',
      'nat',
      '-A',
      'PREROUTING',
      '-d',
      '10.96.0.10/32',
      '-j',
      'DNAT',
      '--to-destination',
      '10.0.0.3',
    ]);
    const p = runUntilDone(k, ping(k.netns('a'), parseIpv4('10.96.0.10')!));
    expect(p.outcome.result).toBe('reachable');
    expect(p.outcome.replyFrom).toBe('10.96.0.10');
    // Bridged both ways: b's reply reaches a with TTL 64 (routed through br0 it would be 63).
    expect(p.outcome.replyTtl).toBe(64);
    const stages = k.tracer.events.filter((e) => e.type === 'stage' && e.stage === 'brNfPreRoutingFinishBridge');
    expect(stages.length).toBeGreaterThan(0);
    expect(k.tracer.events.some((e) => e.type === 'stage' && e.stage === 'ipForward' && e.ns === 'root')).toBe(false);
  });

  it('back to the sender itself: needs hairpin mode on its port', () => {
    const rules = (k: ReturnType<typeof build>) => {
      const root = k.netns('root');
      iptables(root, [
        '-t',
        'nat',
        '-A',
        'PREROUTING',
        '-d',
        '10.96.0.10/32',
        '-j',
        'DNAT',
        '--to-destination',
        '10.0.0.2',
      ]);
      iptables(root, ['-t', 'nat', '-A', 'POSTROUTING', '-s', '10.0.0.2/32', '-d', '10.0.0.2/32', '-j', 'MASQUERADE']);
    };
    const off = build();
    rules(off);
    const p1 = runUntilDone(off, ping(off.netns('a'), parseIpv4('10.96.0.10')!));
    expect(p1.outcome.result).toBe('timeout');
    const on = build(['bridge link set dev va hairpin on']);
    rules(on);
    const p2 = runUntilDone(on, ping(on.netns('a'), parseIpv4('10.96.0.10')!));
    expect(p2.outcome.result).toBe('reachable');
    expect(p2.outcome.replyFrom).toBe('10.96.0.10');
  });

  it('to an address elsewhere: routed by the bridge', () => {
    const k = build();
    const root = k.netns('root');
    iptables(root, [
      '-t',
      'nat',
      '-A',
      'PREROUTING',
      '-d',
      '10.0.0.3/32',
      '-j',
      'DNAT',
      '--to-destination',
      '172.16.0.1',
    ]);
    const p = runUntilDone(k, ping(k.netns('a'), parseIpv4('10.0.0.3')!));
    expect(p.outcome.result).toBe('reachable');
    expect(p.outcome.replyFrom).toBe('10.0.0.3');
    expect(
      k.tracer.events.some(
        (e) => e.type === 'stage' && e.stage === 'brNfPreRoutingFinish' && (e.detail ?? '').includes('routed'),
      ),
    ).toBe(true);
  });
});
