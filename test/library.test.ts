// The library API as the README shows it: build a topology from commands, probe it, add iptables rules, inspect.

import { describe, expect, it } from 'vitest';
import {
  conntrackList,
  iptables,
  iptablesSave,
  loadScenario,
  parseIpv4,
  ping,
  renderTimeline,
  runScenario,
  runUntilDone,
  ScenarioError,
  tcpConnect,
  topology,
} from '../src/index.js';

const LINES = [
  'ip netns add a',
  'ip netns add b',
  'ip link add veth-a netns a type veth peer name veth-b netns b',
  'ip -n a addr add 10.0.0.1/24 dev veth-a',
  'ip -n b addr add 10.0.0.2/24 dev veth-b',
  'ip -n a link set veth-a up',
  'ip -n b link set veth-b up',
];

describe('library', () => {
  it('builds a topology from commands and pings across it', () => {
    const k = topology(LINES);
    const p = runUntilDone(k, ping(k.netns('a'), parseIpv4('10.0.0.2')!));
    expect(p.outcome.result).toBe('reachable');
    expect(p.outcome.replyFrom).toBe('10.0.0.2');
    expect(renderTimeline(k.tracer.events)).toContain('veth-b rx  IP 10.0.0.1 > 10.0.0.2: ICMP echo request');
  });

  it('applies iptables rules and prints them as iptables-save -c', () => {
    const k = topology(LINES);
    const b = k.netns('b');
    b.sockets.listen('tcp', 80, new TextEncoder().encode('hi'));
    iptables(b, ['-A', 'INPUT', '-p', 'tcp', '--dport', '80', '-j', 'REJECT', '--reject-with', 'tcp-reset']);
    const p = runUntilDone(k, tcpConnect(k.netns('a'), parseIpv4('10.0.0.2')!, 80, new Uint8Array(0), null, 4e9));
    expect(p.outcome.result).toBe('refused');
    expect(iptablesSave(b, { counters: true })).toContain(
      '[1:60] -A INPUT -p tcp -m tcp --dport 80 -j REJECT --reject-with tcp-reset',
    );
    // Filter-only rules do not switch conntrack on, as with iptables-nft.
    expect(conntrackList(b)).toBe('');
  });

  it('runs a scenario file', () => {
    const report = runScenario(loadScenario(new URL('../scenarios/router.yaml', import.meta.url).pathname));
    expect(report.ok).toBe(true);
    expect(report.steps.map((s) => s.outcome.result)).toEqual(['reachable', 'reachable', 'reachable', 'unreachable']);
  });

  it('rejects a bad command with its position', () => {
    let err: unknown;
    try {
      topology(['ip netns add a', 'ip link add x type veth peer name y netns nowhere']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScenarioError);
    expect(String(err)).toBe('<commands>:2:1: Cannot open network namespace "nowhere": No such file or directory');
  });
});
