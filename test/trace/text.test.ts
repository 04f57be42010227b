import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../src/trace/events.js';
import {
  describeEvent,
  formatTime,
  registerTextFormatter,
  renderJsonLines,
  renderTimeline,
} from '../../src/trace/text.js';
import { builder, pingOverVeth, routedWithTtlDrop } from './sample-events.js';

describe('formatTime', () => {
  it('prints seconds with nine digits of nanoseconds', () => {
    expect(formatTime(0)).toBe('0.000000000');
    expect(formatTime(2000)).toBe('0.000002000');
    expect(formatTime(1_500_000_000)).toBe('1.500000000');
    expect(formatTime(2 ** 53 - 1)).toBe('9007199.254740991');
  });
});

describe('renderTimeline', () => {
  it('prints one line per event, kind by kind', () => {
    const lines = renderTimeline(pingOverVeth()).split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines.slice(0, 4)).toEqual([
      '0.000000000 [a] route 10.0.0.2 → 10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1',
      '0.000000000 [a] neigh resolve 10.0.0.2 dev eth0 INCOMPLETE',
      '0.000000000 [a] eth0 tx  ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28',
      '0.000001000 [b] eth0 rx  ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28',
    ]);
    expect(lines).toContain(
      '0.000002000 [a] eth0 tx  IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 1, length 64',
    );
    expect(lines).toContain('0.000001000 [b] neigh update 10.0.0.1 dev eth0 lladdr 02:00:00:00:00:0a STALE');
    expect(lines).toContain('0.000003000 [b] ipLocalDeliver dev eth0');
    expect(lines).toContain('0.000003000 [b] sock icmp reply: echo reply id 1 seq 1 to 10.0.0.1');
    expect(lines.length - 1).toBe(pingOverVeth().length);
  });

  it('makes drops stand out and aligns namespaces and times', () => {
    const out = renderTimeline(routedWithTtlDrop());
    const lines = out.trimEnd().split('\n');
    expect(lines).toContain('2.000001000 [r] DROP TTL_EXPIRED: ttl 1 reached 0 in ipForward (dev eth0)');
    expect(lines).toContain('3.000000005 [b] DROP NO_ROUTE: no route to 192.0.2.1');
    expect(lines).toContain('2.000001000 [r] icmp send time-exceeded to 10.0.1.2 (TTL_EXPIRED)');
    const { events, add } = builder();
    add(12_000_000_000, 'node-1', 1, {
      type: 'fdb',
      bridge: 'cni0',
      mac: '02:00:00:00:00:01',
      action: 'learn',
      port: 'veth1',
    });
    add(3, 'a', 1, { type: 'fdb', bridge: 'cni0', mac: 'ff:ff:ff:ff:ff:ff', action: 'flood' });
    expect(renderTimeline(events)).toBe(
      '12.000000000 [node-1] fdb learn 02:00:00:00:00:01 dev veth1 master cni0\n' +
        ' 0.000000003 [a]      fdb flood ff:ff:ff:ff:ff:ff master cni0\n',
    );
  });

  it('shows steps and packet ids on request', () => {
    const { events, add } = builder();
    add(1, 'a', 7, { type: 'stage', stage: 'ipRcv', dev: 'eth0' }, -1);
    add(2, 'a', 12, { type: 'stage', stage: 'ipForward', detail: 'ttl 64' }, 3);
    expect(renderTimeline(events, { showStep: true, showPkt: true })).toBe(
      '0.000000001 #-1 p7  [a] ipRcv dev eth0\n0.000000002 #3  p12 [a] ipForward: ttl 64\n',
    );
    expect(renderTimeline([])).toBe('');
  });

  it('prints unknown kinds field by field in a fixed order, and registered kinds through their formatter', () => {
    const { events, add } = builder();
    add(5, 'n', 3, { type: 'vxlanx', vni: 1, remote: '192.168.1.2', note: 'two words', extra: { b: 2, a: [1, 'x'] } });
    add(6, 'n', 3, { type: 'hookx', table: 'nat', chain: 'PREROUTING', verdict: 'ACCEPT' });
    const reordered = { ...events[0]!, extra: { a: [1, 'x'], b: 2 } } as unknown as TraceEvent;
    expect(describeEvent(events[0]!)).toBe(
      'vxlanx extra={"a":[1,"x"],"b":2} note="two words" remote=192.168.1.2 vni=1',
    );
    expect(describeEvent(reordered)).toBe(describeEvent(events[0]!));
    const fmt = (e: TraceEvent) => {
      const r = e as unknown as Record<string, string>;
      return `${r.table} ${r.chain} → ${r.verdict}`;
    };
    registerTextFormatter('hookx', fmt);
    registerTextFormatter('hookx', fmt); // the same function again is harmless
    expect(renderTimeline(events).split('\n')[1]).toBe('0.000000006 [n] nat PREROUTING → ACCEPT');
    expect(() => registerTextFormatter('hookx', (e) => e.type)).toThrow(/already has a formatter/);
    expect(() => registerTextFormatter('dev', (e) => e.type)).toThrow(/built-in/);
  });

  it('is deterministic byte for byte', () => {
    expect(renderTimeline(routedWithTtlDrop(), { showStep: true })).toBe(
      renderTimeline(routedWithTtlDrop(), { showStep: true }),
    );
  });
});

describe('renderJsonLines', () => {
  it('writes base fields first, then the kind fields in insertion order', () => {
    const e = {
      summary: 'ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28',
      type: 'dev',
      dir: 'rx',
      ns: 'b',
      dev: 'eth0',
      step: 2,
      len: 42,
      pkt: 4,
      from: { ns: 'a', dev: 'eth0' },
      seq: 9,
      t: 1000,
    } as unknown as TraceEvent;
    expect(renderJsonLines([e])).toBe(
      '{"t":1000,"seq":9,"step":2,"pkt":4,"ns":"b","type":"dev",' +
        '"summary":"ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28","dir":"rx","dev":"eth0","len":42,' +
        '"from":{"ns":"a","dev":"eth0"}}\n',
    );
  });

  it('writes one parseable object per line, same input same bytes', () => {
    const evs = routedWithTtlDrop();
    const out = renderJsonLines(evs);
    const lines = out.trimEnd().split('\n');
    expect(lines.length).toBe(evs.length);
    const back = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(back.map((o) => Object.keys(o).slice(0, 6))).toEqual(
      evs.map(() => ['t', 'seq', 'step', 'pkt', 'ns', 'type']),
    );
    expect(back).toEqual(evs);
    expect(renderJsonLines(routedWithTtlDrop())).toBe(out);
    expect(renderJsonLines([])).toBe('');
  });
});
