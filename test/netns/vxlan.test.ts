// Flannel's VXLAN overlay against what Linux 6.18 did in tools/kernel-lab/VXLAN-NOTES.md: the two-node topology is
// built with the library (vxlan-topology.ts) and the frames on the underlay are compared with the captured fixtures
// (test/fixtures/vxlan) field by field — IP ids, ICMP ids and source ports are random on both sides and differ.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { showFdb } from '../../src/bridge/show.js';
import type { NfHookOps } from '../../src/netns/hooks.js';
import type { TraceEvent } from '../../src/trace/events.js';
import { describeEvent } from '../../src/trace/text.js';
import { formatIpv4, readU16 } from '../../src/wire/addr.js';
import { internetChecksum } from '../../src/wire/checksum.js';
import { udpChecksumOk } from '../../src/wire/udp.js';
import { act, type Frame, type IpFrame, ipFrames } from './harness.js';
import { buildOverlay, type OverlayOptions } from './vxlan-topology.js';

interface Fixture {
  name: string;
  hex: string;
  note: string;
}

function fixture(file: string, name: string): Uint8Array {
  const list = JSON.parse(
    readFileSync(new URL(`../fixtures/vxlan/${file}.json`, import.meta.url), 'utf8'),
  ) as Fixture[];
  const f = list.find((x) => x.name === name);
  if (!f) throw new Error(`no fixture ${name}`);
  return Uint8Array.from(Buffer.from(f.hex, 'hex'));
}

const hex = (b: Uint8Array, from: number, to: number) => Buffer.from(b.subarray(from, to)).toString('hex');

/** Offsets in an encapsulated frame on the underlay. */
const OUTER_IP = 14;
const UDP = 34;
const VXLAN = 42;
const INNER = 50;
const INNER_IP = 64;

function isVxlan(f: Frame): boolean {
  return f.data.length >= INNER + 14 && readU16(f.data, 12) === 0x0800 && f.data[OUTER_IP + 9] === 17;
}

/** Frames tcpdump on n1's bridge port in `ul` (u1) would show: rx = from n1, tx = towards n1. */
function underlay(frames: Frame[], dir: 'rx' | 'tx'): Frame[] {
  return frames.filter((f) => f.ns === 'ul' && f.dev === 'u1' && f.dir === dir && isVxlan(f));
}

const sport = (f: Frame) => readU16(f.data, UDP);

/** The outer headers a VXLAN device built, against a captured frame: all but IP id/checksum and UDP ports/checksum. */
function expectOuterLike(a: Uint8Array, fx: Uint8Array): void {
  expect(a.length).toBe(fx.length);
  expect(hex(a, 0, 14), 'outer Ethernet').toBe(hex(fx, 0, 14));
  expect(hex(a, OUTER_IP, OUTER_IP + 4), 'version, ihl, tos, total length').toBe(hex(fx, OUTER_IP, OUTER_IP + 4));
  expect(hex(a, OUTER_IP + 6, OUTER_IP + 10), 'flags, offset, TTL, protocol').toBe(
    hex(fx, OUTER_IP + 6, OUTER_IP + 10),
  );
  expect(hex(a, OUTER_IP + 12, OUTER_IP + 20), 'addresses').toBe(hex(fx, OUTER_IP + 12, OUTER_IP + 20));
  expect(internetChecksum(a, OUTER_IP, 20), 'outer IP checksum').toBe(0);
  expect(hex(a, UDP + 2, UDP + 6), 'UDP dst port and length').toBe(hex(fx, UDP + 2, UDP + 6));
  expect(readU16(a, UDP + 6), 'udpcsum: a checksum is sent').not.toBe(0);
  expect(
    udpChecksumOk(
      a,
      UDP,
      readU16(a, OUTER_IP + 12) * 65536 + readU16(a, OUTER_IP + 14),
      readU16(a, OUTER_IP + 16) * 65536 + readU16(a, OUTER_IP + 18),
    ),
  ).toBe(true);
  expect(hex(a, VXLAN, VXLAN + 8), 'VXLAN header').toBe(hex(fx, VXLAN, VXLAN + 8));
}

/** An inner ICMP echo (Ethernet header at `o`) against a captured one: all but IP id/checksum, ICMP id/seq/time. */
function expectEchoLike(a: Uint8Array, fx: Uint8Array, o: number): void {
  const ip = o + 14;
  expect(hex(a, o, o + 14), 'inner Ethernet').toBe(hex(fx, o, o + 14));
  expect(hex(a, ip, ip + 4), 'inner version, tos, length').toBe(hex(fx, ip, ip + 4));
  expect(hex(a, ip + 6, ip + 10), 'inner flags, TTL, protocol').toBe(hex(fx, ip + 6, ip + 10));
  expect(hex(a, ip + 12, ip + 20), 'inner addresses').toBe(hex(fx, ip + 12, ip + 20));
  expect(hex(a, ip + 20, ip + 22), 'ICMP type and code').toBe(hex(fx, ip + 20, ip + 22));
  expect(hex(a, ip + 44, ip + 84), 'ping pattern after the timestamp').toBe(hex(fx, ip + 44, ip + 84));
}

function run(o: OverlayOptions, action: Parameters<typeof act>[1]) {
  const ov = buildOverlay(o);
  return { ov, r: act(ov.k, action) };
}

function dropsIn(events: TraceEvent[], ns: string) {
  return events.filter((e): e is Extract<TraceEvent, { type: 'drop' }> => e.type === 'drop' && e.ns === ns);
}

describe('pod to pod across flannel.1', () => {
  const { ov, r } = run({}, { ping: { from: 'p1', to: '10.244.2.2', count: 2, intervalNs: 300e6 } });
  const req = underlay(r.frames, 'rx');
  const rep = underlay(r.frames, 'tx');

  it('reaches the pod with TTL 62 and gets both replies', () => {
    expect(r.probe.outcome.result).toBe('reachable');
    expect(r.probe.outcome.replyTtl).toBe(62);
    const atP2 = ipFrames(r, { ns: 'p2', dev: 'eth0', dir: 'rx' }).filter((f) => f.ip.protocol === 1);
    expect(atP2.map((f) => f.ip.ttl)).toEqual([62, 62]);
  });

  it('puts 148-byte frames on the underlay, shaped like Linux', () => {
    expect(req).toHaveLength(2);
    expect(rep).toHaveLength(2);
    for (const f of req) expectOuterLike(f.data, fixture('ping-underlay', 'ping-underlay-03'));
    for (const f of rep) expectOuterLike(f.data, fixture('ping-underlay', 'ping-underlay-04'));
  });

  it('carries the inner frames unchanged apart from ids', () => {
    for (const f of req) expectEchoLike(f.data, fixture('ping-underlay', 'ping-underlay-03'), INNER);
    for (const f of rep) expectEchoLike(f.data, fixture('ping-underlay', 'ping-underlay-04'), INNER);
    const inP2 = r.frames.filter((f) => f.ns === 'p2' && f.dev === 'eth0' && f.dir === 'rx' && f.data.length === 98);
    expect(inP2).toHaveLength(2);
    expectEchoLike(inP2[0]!.data, fixture('ping-p2', 'ping-p2-03'), 0);
  });

  it('uses one source port for the whole flow, in ip_local_port_range', () => {
    const ports = [...req, ...rep].map(sport);
    expect(new Set(ports).size).toBe(1);
    expect(ports[0]).toBeGreaterThanOrEqual(32768);
    expect(ports[0]).toBeLessThan(60999);
    expect(readU16(req[0]!.data, UDP + 2)).toBe(8472);
  });

  it('numbers outer packets from the node counters and keeps DF clear', () => {
    const ids = req.map((f) => readU16(f.data, OUTER_IP + 4));
    expect(ids[1]).not.toBe(ids[0]);
    for (const f of [...req, ...rep]) {
      expect(f.data[OUTER_IP + 8], 'outer TTL: ttl auto = ip_default_ttl').toBe(64);
      expect(readU16(f.data, OUTER_IP + 6), 'DF clear').toBe(0);
      expect(f.data[OUTER_IP + 1], 'TOS').toBe(0);
    }
  });

  it('traces encapsulation and decapsulation', () => {
    const vx = r.events.filter((e): e is Extract<TraceEvent, { type: 'vxlan' }> => e.type === 'vxlan');
    expect(vx.map((e) => `${e.ns} ${e.action}`)).toEqual([
      'n1 encap',
      'n2 decap',
      'n2 encap',
      'n1 decap',
      'n1 encap',
      'n2 decap',
      'n2 encap',
      'n1 decap',
    ]);
    const first = vx[0]!;
    expect(first).toMatchObject({ dev: 'flannel.1', vni: 1, local: '192.168.50.11', remote: '192.168.50.12' });
    expect(first.dport).toBe(8472);
    expect(describeEvent(first)).toBe(
      `vxlan encap dev flannel.1 vni 1: 192.168.50.11.${first.sport} > 192.168.50.12.8472: ${first.inner}`,
    );
    expect(first.inner).toMatch(/^IP 10\.244\.1\.2 > 10\.244\.2\.2: ICMP echo request/);
    // The decapsulated frame arrives on n2's flannel.1 from n1's flannel.1.
    const rx = r.events.find((e) => e.type === 'dev' && e.ns === 'n2' && e.dev === 'flannel.1' && e.dir === 'rx');
    expect(rx).toMatchObject({ from: { ns: 'n1', dev: 'flannel.1' } });
  });

  it('counts inner IP bytes on flannel.1, as the kernel tstats do', () => {
    expect(ov.flannel[0].stats).toMatchObject({ txPackets: 2, txBytes: 168, rxPackets: 2, rxBytes: 168 });
    expect(ov.flannel[1].stats).toMatchObject({ txPackets: 2, txBytes: 168, rxPackets: 2, rxBytes: 168 });
  });
});

describe('node to remote pod', () => {
  const { r } = run({}, { ping: { from: 'n1', to: '10.244.2.2' } });
  const req = underlay(r.frames, 'rx');
  const rep = underlay(r.frames, 'tx');

  it('leaves with the flannel.1 /32 as source and TTL 64 inside the tunnel', () => {
    expect(r.probe.outcome).toMatchObject({ result: 'reachable', replyTtl: 63 });
    expect(req).toHaveLength(1);
    expectOuterLike(req[0]!.data, fixture('ping-underlay', 'ping-underlay-07'));
    expectEchoLike(req[0]!.data, fixture('ping-underlay', 'ping-underlay-07'), INNER);
    expectEchoLike(rep[0]!.data, fixture('ping-underlay', 'ping-underlay-08'), INNER);
    expect(formatIpv4(readU16(req[0]!.data, INNER_IP + 12) * 65536 + readU16(req[0]!.data, INNER_IP + 14))).toBe(
      '10.244.1.0',
    );
  });

  it('gets its own source port, the same both ways', () => {
    expect(sport(req[0]!)).toBe(sport(rep[0]!));
    const pod = run({}, { ping: { from: 'p1', to: '10.244.2.2' } });
    expect(sport(underlay(pod.r.frames, 'rx')[0]!)).not.toBe(sport(req[0]!));
  });
});

describe('source ports', () => {
  it('do not depend on the ICMP id, and repeat for the same seed', () => {
    const a = run({}, { ping: { from: 'p1', to: '10.244.2.2' } });
    const b = run({ seed: 1 }, { ping: { from: 'p1', to: '10.244.2.2', count: 1, size: 100 } });
    expect(sport(underlay(a.r.frames, 'rx')[0]!)).toBe(sport(underlay(b.r.frames, 'rx')[0]!));
  });

  it('come from each TCP socket’s random hash, and from the flow for a RST', () => {
    const ov = buildOverlay();
    ov.p[1].sockets.listen('tcp', 8080, new TextEncoder().encode('ok'));
    const c1 = act(ov.k, { tcp: { from: 'p1', to: '10.244.2.2', port: 8080, payload: 'hi' } });
    expect(c1.probe.outcome.result).toBe('reachable');
    const c2 = act(ov.k, { tcp: { from: 'p1', to: '10.244.2.2', port: 8080, payload: 'hi' } });
    const syn = (x: typeof c1) => sport(underlay(x.frames, 'rx')[0]!);
    const synAck = (x: typeof c1) => sport(underlay(x.frames, 'tx')[0]!);
    // Every segment of one connection from one side has the same port; the two sides' sockets differ.
    expect(new Set(underlay(c1.frames, 'rx').map(sport)).size).toBe(1);
    expect(synAck(c1)).not.toBe(syn(c1));
    expect(syn(c2)).not.toBe(syn(c1));
    const refused = act(ov.k, { tcp: { from: 'p1', to: '10.244.2.2', port: 9999 } });
    expect(refused.probe.outcome.result).toBe('refused');
    const rst = underlay(refused.frames, 'tx')[0]!;
    expect(rst.data[INNER_IP + 33]! & 0x04, 'RST').toBe(4);
    expect(sport(rst)).not.toBe(syn(refused));
  });
});

describe('receiver mismatches', () => {
  it('a VNI nobody has is dropped silently on the receiving node', () => {
    const { ov, r } = run({ n2Vxlan: { vni: 2 } }, { ping: { from: 'p1', to: '10.244.2.2', count: 3, waitNs: 1e9 } });
    expect(r.probe.outcome.result).toBe('timeout');
    const drops = dropsIn(r.events, 'n2');
    expect(drops.map((d) => d.reason)).toEqual(['VXLAN_VNI_NOT_FOUND', 'VXLAN_VNI_NOT_FOUND', 'VXLAN_VNI_NOT_FOUND']);
    expect(r.events.filter((e) => e.type === 'icmp')).toEqual([]);
    expect(ov.flannel[1].stats).toMatchObject({ rxPackets: 0, rxBytes: 0, txPackets: 0, rxDropped: 0 });
  });

  it('a port nobody listens on gets ICMP port unreachable from the node', () => {
    const { ov, r } = run({ n2Vxlan: { dstport: 4789 } }, { ping: { from: 'p1', to: '10.244.2.2', waitNs: 1e9 } });
    expect(r.probe.outcome.result).toBe('timeout');
    const icmp = ipFrames(r, { ns: 'ul', dev: 'u1', dir: 'tx' }).filter((f: IpFrame) => f.ip.protocol === 1);
    expect(icmp).toHaveLength(1);
    const f = icmp[0]!;
    expect(f.frame.data.length).toBe(176);
    expect(formatIpv4(f.ip.src)).toBe('192.168.50.12');
    expect(f.ip.tos).toBe(0xc0);
    expect(hex(f.frame.data, 34, 36), 'type 3 code 3').toBe('0303');
    expect(dropsIn(r.events, 'n2').map((d) => d.reason)).toEqual(['NO_SOCKET']);
    expect(ov.flannel[0].stats).toMatchObject({ txPackets: 1, txDropped: 0 });
  });
});

describe('MTU', () => {
  it('a DF ping filling flannel.1 fills the underlay exactly', () => {
    const { r } = run({}, { ping: { from: 'p1', to: '10.244.2.2', size: 1422 } });
    expect(r.probe.outcome).toMatchObject({ result: 'reachable', replyTtl: 62 });
    const frames = underlay(r.frames, 'rx');
    expect(frames.map((f) => f.data.length)).toEqual([1514]);
    expectOuterLike(frames[0]!.data, fixture('mtu-underlay', 'mtu-underlay-01'));
  });

  it('one byte more does not leave a pod with MTU 1450', () => {
    const { r } = run({}, { ping: { from: 'p1', to: '10.244.2.2', size: 1423, waitNs: 1e9 } });
    expect(r.probe.outcome.result).not.toBe('reachable');
    expect(dropsIn(r.events, 'p1').map((d) => d.reason)).toEqual(['PKT_TOO_BIG']);
    expect(underlay(r.frames, 'rx')).toEqual([]);
  });

  it('a DF ping from a pod with MTU 1500 gets frag-needed from cni0 with mtu 1450', () => {
    const { r } = run({ p1Mtu: 1500 }, { ping: { from: 'p1', to: '10.244.2.2', size: 1472, waitNs: 1e9 } });
    expect(r.probe.outcome.lines).toContain('From 10.244.1.1 icmp_seq=1 Frag needed and DF set (mtu = 1450)');
    const err = ipFrames(r, { ns: 'p1', dev: 'eth0', dir: 'rx' }).filter((f) => f.ip.protocol === 1);
    expect(err).toHaveLength(1);
    expect(err[0]!.frame.data.length).toBe(fixture('mtu-p1', 'mtu-p1-04').length);
    expect(hex(err[0]!.frame.data, 34, 36)).toBe('0304');
    expect(readU16(err[0]!.frame.data, 40), 'next-hop MTU').toBe(1450);
    expect(underlay(r.frames, 'rx')).toEqual([]);
  });

  it('without DF the inner packet is fragmented before encapsulation and reassembled in the pod', () => {
    const { r } = run({ p1Mtu: 1500 }, { ping: { from: 'p1', to: '10.244.2.2', size: 1472, df: false } });
    expect(r.probe.outcome).toMatchObject({ result: 'reachable', replyTtl: 62 });
    const out = underlay(r.frames, 'rx');
    expect(out.map((f) => f.data.length)).toEqual([1508, 140]);
    expect(out.map((f) => readU16(f.data, INNER_IP + 2))).toEqual([1444, 76]);
    expect(out.map((f) => readU16(f.data, INNER_IP + 6))).toEqual([0x2000, 1424 / 8]);
    expect(new Set(out.map(sport)).size).toBe(1);
    expectOuterLike(out[0]!.data, fixture('mtu-underlay', 'mtu-underlay-03'));
    expectOuterLike(out[1]!.data, fixture('mtu-underlay', 'mtu-underlay-04'));
    // p2 (MTU 1450) fragments its reply the same way.
    expect(underlay(r.frames, 'tx').map((f) => f.data.length)).toEqual([1508, 140]);
    expect(new Set([...out, ...underlay(r.frames, 'tx')].map(sport)).size).toBe(1);
  });

  it('outer packets above the underlay MTU are fragmented by ip_output (DF clear)', () => {
    const ov = buildOverlay({ p1Mtu: 1500 });
    ov.flannel[0].mtu = 1500; // as if the underlay had been larger when the MTU was set
    const r = act(ov.k, { ping: { from: 'p1', to: '10.244.2.2', size: 1472, df: false } });
    expect(r.probe.outcome.result).toBe('reachable');
    const out = ipFrames(r, { ns: 'ul', dev: 'u1', dir: 'rx' }).filter((f) => f.ip.protocol === 17);
    expect(out.map((f) => [f.ip.totalLength, readU16(f.frame.data, OUTER_IP + 6)])).toEqual([
      [1500, 0x2000],
      [70, 1480 / 8],
    ]);
  });
});

describe('flannel.1 FDB and netfilter', () => {
  it('bridge fdb show prints the entry as Linux does', () => {
    const ov = buildOverlay();
    expect(showFdb(ov.n[0], 'flannel.1')).toBe('0a:f1:00:00:00:02 dst 192.168.50.12 self permanent\n');
    expect(showFdb(ov.n[0])).toContain('0a:f1:00:00:00:02 dev flannel.1 dst 192.168.50.12 self permanent\n');
    expect(showFdb(ov.n[0])).not.toContain('dev flannel.1 self');
  });

  it('a MAC without entry and without default entry is dropped as VXLAN_NO_REMOTE', () => {
    const ov = buildOverlay();
    ov.flannel[0].fdbDel(0x0af100000002);
    const r = act(ov.k, { ping: { from: 'p1', to: '10.244.2.2', waitNs: 1e9 } });
    expect(r.probe.outcome.result).toBe('timeout');
    expect(dropsIn(r.events, 'n1').map((d) => d.reason)).toEqual(['VXLAN_NO_REMOTE']);
    expect(ov.flannel[0].stats).toMatchObject({ txPackets: 0, txBytes: 0, txDropped: 1 });
    expect(underlay(r.frames, 'rx')).toEqual([]);
  });

  it('the all-zeros entry floods to each of its remotes', () => {
    const ov = buildOverlay();
    const vx = ov.flannel[0];
    vx.fdbDel(0x0af100000002);
    vx.fdbAppend(0, 0xc0a8320c);
    vx.fdbAppend(0, 0xc0a83263);
    const r = act(ov.k, { ping: { from: 'p1', to: '10.244.2.2' } });
    expect(r.probe.outcome.result).toBe('reachable');
    const enc = r.events.filter((e) => e.type === 'vxlan' && e.ns === 'n1' && e.action === 'encap');
    expect(enc.map((e) => (e as { remote: string }).remote)).toEqual(['192.168.50.12', '192.168.50.99']);
    expect(showFdb(ov.n[0], 'flannel.1')).toBe(
      '00:00:00:00:00:00 dst 192.168.50.12 self permanent\n00:00:00:00:00:00 dst 192.168.50.99 self permanent\n',
    );
  });

  it('OUTPUT and POSTROUTING see the outer packet', () => {
    const ov = buildOverlay();
    const seen: string[] = [];
    for (const hook of ['OUTPUT', 'POSTROUTING'] as const) {
      const ops: NfHookOps = {
        hook,
        priority: 0,
        name: 'test',
        fn: (skb, st) => {
          const b = skb.buf;
          if (b[skb.nh + 9] === 17 && readU16(b, skb.nh + 22) === 8472)
            seen.push(`${hook} ${st.outDev?.name} in=${st.inDev?.name ?? '-'}`);
          return 'accept';
        },
      };
      ov.n[0].hooks.register(ops);
    }
    act(ov.k, { ping: { from: 'p1', to: '10.244.2.2' } });
    expect(seen).toEqual(['OUTPUT eth0 in=-', 'POSTROUTING eth0 in=-']);
  });
});
