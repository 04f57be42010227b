// Determinism: the same commands and seed give the same run — trace events, captured bytes, MACs, ports and
// sequence numbers — and a different seed changes what the seeded PRNG decides (MACs first of all).

import { describe, expect, it } from 'vitest';
import { formatMac } from '../../src/wire/addr.js';
import { act, build, type CaseRun, type Listen } from './harness.js';

const SETUP = [
  'ip link add br0 type bridge',
  'ip link set br0 up',
  'ip addr add 10.0.0.254/24 dev br0',
  'sysctl -w net.ipv4.ip_forward=1',
  'ip netns add a',
  'ip link add veth-a type veth peer name eth0 netns a',
  'ip link set veth-a master br0',
  'ip link set veth-a up',
  'ip -n a link set eth0 up',
  'ip -n a addr add 10.0.0.1/24 dev eth0',
  'ip -n a route add default via 10.0.0.254',
  'ip netns add b',
  'ip link add veth-b type veth peer name eth0 netns b',
  'ip addr add 10.1.0.1/24 dev veth-b',
  'ip link set veth-b up',
  'ip -n b link set eth0 up',
  'ip -n b link set lo up',
  'ip -n b addr add 10.1.0.2/24 dev eth0',
  'ip -n b route add default via 10.1.0.1',
];
const LISTEN: Listen[] = [
  { ns: 'b', proto: 'tcp', port: 80, reply: 'hi' },
  { ns: 'b', proto: 'udp', port: 53, reply: 'ok' },
];

function session(seed: number) {
  const k = build({ setup: SETUP, listen: LISTEN, seed });
  const runs: CaseRun[] = [
    act(k, { ping: { from: 'a', to: '10.1.0.2', count: 2 } }),
    act(k, { tcp: { from: 'a', to: '10.1.0.2', port: 80, payload: 'GET' } }),
    act(k, { udp: { from: 'a', to: '10.1.0.2', port: 53, payload: 'q' } }),
    act(k, { ping: { from: 'a', to: '10.1.0.77' } }),
  ];
  const macs = [...k.namespaces.values()].flatMap((ns) =>
    ns.devices().map((d) => `${ns.name}:${d.name} ${formatMac(d.mac)}`),
  );
  return {
    events: JSON.stringify(k.tracer.events),
    frames: runs.flatMap((r) =>
      r.frames.map((f) => `${f.t} ${f.ns}:${f.dev} ${f.dir} ${Buffer.from(f.data).toString('hex')}`),
    ),
    outcomes: runs.map((r) => r.probe.outcome),
    macs,
  };
}

describe('determinism', () => {
  it('the same topology and seed give identical traces, captures and outcomes', () => {
    const one = session(7);
    const two = session(7);
    expect(one.outcomes.map((o) => o.result)).toEqual(['reachable', 'reachable', 'reachable', 'unreachable']);
    expect(two.events).toBe(one.events);
    expect(two.frames).toEqual(one.frames);
    expect(two.outcomes).toEqual(one.outcomes);
    expect(two.macs).toEqual(one.macs);
  });

  it('a different seed gives different MACs (and so different bytes), the same outcomes', () => {
    const one = session(7);
    const other = session(8);
    const onlyMacs = (m: string[]) => m.filter((x) => !x.includes(':lo '));
    for (let i = 0; i < onlyMacs(one.macs).length; i++) expect(onlyMacs(other.macs)[i]).not.toBe(onlyMacs(one.macs)[i]);
    expect(other.frames).not.toEqual(one.frames);
    expect(other.outcomes.map((o) => [o.result, o.replyFrom, o.replyTtl])).toEqual(
      one.outcomes.map((o) => [o.result, o.replyFrom, o.replyTtl]),
    );
  });

  it('MACs are locally administered unicast addresses', () => {
    for (const line of session(3).macs) {
      const mac = line.split(' ')[1]!;
      if (mac === '00:00:00:00:00:00') continue;
      const first = Number.parseInt(mac.slice(0, 2), 16);
      expect(first & 1).toBe(0);
      expect(first & 2).toBe(2);
    }
  });
});
