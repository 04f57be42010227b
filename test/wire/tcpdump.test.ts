// describeFrame against the real tcpdump (-n -t -S) on the same bytes: every prefix of every captured frame (so
// every place a capture can be cut), and a few hundred frames built from random field values. tcpdump prints a
// VXLAN packet's inner frame on a second line, which describeFrame joins with ": ". IPv6 is left out: the
// emulator does not decode it. Skipped when tcpdump is not installed.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Ipv4, type Mac, writeU16 } from '../../src/wire/addr.js';
import { ARP_LEN, emitArp } from '../../src/wire/arp.js';
import { describeFrame } from '../../src/wire/describe.js';
import { ETH_HLEN, ETH_P_ARP, ETH_P_IP, ETH_P_IPV6, emitEth } from '../../src/wire/ethernet.js';
import { emitIcmpHeader, ICMP_HLEN } from '../../src/wire/icmp.js';
import { emitIpv4Header, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from '../../src/wire/ipv4.js';
import { emitTcpHeader, type TcpOptions, tcpOptionsLength } from '../../src/wire/tcp.js';
import { emitUdpHeader, UDP_HLEN } from '../../src/wire/udp.js';
import { emitVxlan, VXLAN_HLEN, VXLAN_IANA_PORT } from '../../src/wire/vxlan.js';
import { loadFixtures } from './fixtures.js';
import { hasTcpdump, tcpdumpLines } from './pcap.js';

const HAVE_TCPDUMP = hasTcpdump();
if (!HAVE_TCPDUMP) console.warn('test/wire/tcpdump.test.ts: tcpdump is not installed; comparison with it skipped');

/** tcpdump's text on one line, without the hex dump it adds to packets it cannot decode. */
const asOneLine = (tcpdump: string): string =>
  tcpdump
    .split('\n')
    .filter((line) => !/^\t0x[0-9a-f]{4}: /.test(line))
    .join('\n')
    .replace('\n', ': ')
    .trimStart()
    .trimEnd();
const isIpv6 = (f: Uint8Array): boolean => f.length >= 14 && f[12] === 0x86 && f[13] === 0xdd;

function compare(frames: Uint8Array[], options: string[] = []): void {
  const lines = tcpdumpLines(frames, options);
  expect(lines.length).toBe(frames.length);
  const diffs: string[] = [];
  frames.forEach((f, i) => {
    if (isIpv6(f)) return;
    const mine = describeFrame(f);
    const theirs = asOneLine(lines[i]!);
    if (mine !== theirs) diffs.push(`${f.length} bytes:\n  describeFrame: ${mine}\n  tcpdump:       ${theirs}`);
  });
  expect(diffs.slice(0, 8).join('\n')).toBe('');
}

// --- frames from random fields ---
const u8 = fc.integer({ min: 0, max: 255 });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.tuple(u16, u16).map(([h, l]) => h * 0x10000 + l);
const mac = fc.tuple(u16, u32).map(([h, l]) => h * 0x100000000 + l);
// Ports tcpdump has no application decoder for.
const port = fc.integer({ min: 40000, max: 40999 });

function ether(dst: Mac, src: Mac, type: number, payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(ETH_HLEN + payload.length);
  emitEth(b, 0, { dst, src, ethertype: type });
  b.set(payload, ETH_HLEN);
  return b;
}

interface IpFields {
  tos: number;
  id: number;
  df: boolean;
  ttl: number;
  src: Ipv4;
  dst: Ipv4;
}
const ipFields = fc.record({ tos: u8, id: u16, df: fc.boolean(), ttl: u8, src: u32, dst: u32 });

function ipPacket(h: IpFields, protocol: number, l4: Uint8Array, frag = { mf: false, fragOffset: 0 }): Uint8Array {
  const b = new Uint8Array(20 + l4.length);
  b.set(l4, 20);
  emitIpv4Header(b, 0, { ...h, ...frag, totalLength: b.length, protocol, options: new Uint8Array(0) });
  return b;
}

const arpFrame = fc
  .record({ op: fc.constantFrom(1, 2, 3, 4), sha: mac, spa: u32, tha: fc.oneof(mac, fc.constant(0)), tpa: u32 })
  .map((r) => {
    const p = new Uint8Array(ARP_LEN);
    emitArp(p, 0, r);
    return { type: ETH_P_ARP, payload: p };
  });

function icmp(type: number, code: number, rest: number, body: Uint8Array): Uint8Array {
  const b = new Uint8Array(ICMP_HLEN + body.length);
  b.set(body, ICMP_HLEN);
  emitIcmpHeader(b, 0, type, code, rest, b.length);
  return b;
}

function udp(h: IpFields, sport: number, dport: number, payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(UDP_HLEN + payload.length);
  b.set(payload, UDP_HLEN);
  emitUdpHeader(b, 0, sport, dport, b.length, h.src, h.dst);
  return b;
}

const echo = fc
  .tuple(ipFields, fc.constantFrom(0, 8), u16, u16, fc.uint8Array({ maxLength: 64 }))
  .map(([h, type, id, seq, data]) => ipPacket(h, IPPROTO_ICMP, icmp(type, 0, id * 0x10000 + seq, data)));

/** An ICMP error quoting a UDP, TCP or ICMP packet, cut at 8 bytes past its header as old routers did or whole. */
const icmpError = fc
  .tuple(
    ipFields,
    ipFields,
    fc.constantFrom<[number, number]>(
      ...Array.from({ length: 16 }, (_, c) => [3, c] as [number, number]),
      [11, 0],
      [11, 1],
      [5, 0],
      [5, 1],
      [5, 2],
      [5, 3],
      [12, 0],
      [12, 1],
      [4, 0],
    ),
    fc.constantFrom(IPPROTO_UDP, IPPROTO_TCP, IPPROTO_ICMP),
    port,
    port,
    u32,
    fc.boolean(),
  )
  .map(([outer, inner, [type, code], proto, sport, dport, rest, whole]) => {
    const l4 = new Uint8Array(28);
    l4[0] = sport >> 8;
    l4[1] = sport & 255;
    l4[2] = dport >> 8;
    l4[3] = dport & 255;
    l4[12] = 0x50;
    const quoted = ipPacket(inner, proto, l4);
    const restField = type === 3 && code === 4 ? rest & 0xffff : type === 12 ? rest & 0xff000000 : rest;
    return ipPacket(outer, IPPROTO_ICMP, icmp(type, code, restField, whole ? quoted : quoted.subarray(0, 28)));
  });

const udpPacket = fc
  .tuple(ipFields, port, port, fc.uint8Array({ maxLength: 40 }))
  .map(([h, sp, dp, data]) => ipPacket(h, IPPROTO_UDP, udp(h, sp, dp, data)));

const tcpOptions: fc.Arbitrary<TcpOptions> = fc
  .record(
    {
      mss: u16,
      wscale: fc.integer({ min: 0, max: 14 }),
      sackPerm: fc.constant(true),
      timestamp: fc.tuple(u32, u32),
      sack: fc.array(fc.tuple(u32, u32), { minLength: 1, maxLength: 3 }),
    },
    { requiredKeys: [] },
  )
  .filter((o) => tcpOptionsLength(o) <= 40);

const tcpPacket = fc
  .tuple(ipFields, port, port, u32, u32, u8, u16, u16, tcpOptions, fc.uint8Array({ maxLength: 30 }))
  .map(([h, sp, dp, seq, ack, flags, window, urgent, options, data]) => {
    const hl = 20 + tcpOptionsLength(options);
    const seg = new Uint8Array(hl + data.length);
    seg.set(data, hl);
    emitTcpHeader(
      seg,
      0,
      { srcPort: sp, dstPort: dp, seq, ack, flags, window, urgent, options },
      data.length,
      h.src,
      h.dst,
    );
    return ipPacket(h, IPPROTO_TCP, seg);
  });

const fragment = fc
  .tuple(ipFields, fc.integer({ min: 1, max: 100 }), fc.boolean(), fc.uint8Array({ minLength: 8, maxLength: 40 }))
  .map(([h, off, mf, data]) => ipPacket(h, IPPROTO_UDP, data, { mf, fragOffset: off * 8 }));

/** Any ICMP type and code, with a body too short for what some of them carry. */
const anyIcmp = fc
  .tuple(ipFields, u8, u8, u32, fc.uint8Array({ maxLength: 40 }))
  .map(([h, type, code, rest, body]) => ipPacket(h, IPPROTO_ICMP, icmp(type, code, rest, body)));

/** Router advertisements (type 9) with their address list, possibly longer than tcpdump's text buffer. */
const routerAdvert = fc
  .tuple(ipFields, fc.integer({ min: 0, max: 40 }), u16, fc.uint8Array({ minLength: 320, maxLength: 320 }))
  .map(([h, num, life, addrs]) =>
    ipPacket(h, IPPROTO_ICMP, icmp(9, 0, ((num << 24) | (2 << 16) | life) >>> 0, addrs.subarray(0, 8 * num))),
  );

/** Protocol numbers IANA has not assigned, which tcpdump has no decoder for. */
const otherProto = fc
  .tuple(ipFields, fc.integer({ min: 146, max: 252 }), fc.uint8Array({ maxLength: 30 }))
  .map(([h, proto, data]) => ipPacket(h, proto, data));

/** Well-formed packets with one header field set to something a sender should not write. */
const malformed = fc
  .tuple(fc.oneof(echo, udpPacket, tcpPacket), fc.integer({ min: 0, max: 5 }), u16)
  .map(([p, which, v]) => {
    const b = p.slice();
    const l4 = (b[0]! & 15) * 4;
    if (which === 0) b[0] = ((v % 16) << 4) | (b[0]! & 15); // IP version
    if (which === 1) b[0] = 0x40 | (v % 16); // IHL
    if (which === 2) writeU16(b, 2, v % (b.length + 40)); // total length
    if (which === 3 && b[9] === IPPROTO_UDP) writeU16(b, l4 + 4, v % (b.length + 16)); // UDP length
    if (which === 4 && b[9] === IPPROTO_TCP) b[l4 + 12] = ((v % 16) << 4) | (b[l4 + 12]! & 15); // TCP offset
    // First option kind; MPTCP (30) and Fast Open (34) have decoders of their own in tcpdump, not reproduced.
    if (which === 5 && b[9] === IPPROTO_TCP) b[l4 + 20] = [30, 34].includes(v % 40) ? 19 : v % 40;
    return b;
  });

const oddArp = fc
  .tuple(
    fc.constantFrom(0x0800, 0x86dd),
    fc.constantFrom(0, 6, 8),
    fc.constantFrom(4, 16),
    fc.uint8Array({ minLength: 60, maxLength: 60 }),
    fc.constantFrom(1, 2, 3, 4, 8, 9, 5),
  )
  .map(([pro, hln, pln, body, op]) => {
    const b = body.slice(0, 8 + 2 * hln + 2 * pln);
    writeU16(b, 0, 1);
    writeU16(b, 2, pro);
    b[4] = hln;
    b[5] = pln;
    writeU16(b, 6, op);
    return { type: ETH_P_ARP, payload: b };
  });

const ipFrame = fc
  .oneof(echo, icmpError, udpPacket, tcpPacket, fragment, anyIcmp, routerAdvert, otherProto, malformed)
  .map((p) => ({ type: ETH_P_IP, payload: p }));
const plainFrame = fc
  .tuple(mac, mac, fc.oneof(arpFrame, oddArp, ipFrame))
  .map(([d, s, f]) => ether(d, s, f.type, f.payload));

const vxlanFrame = fc
  .tuple(
    mac,
    mac,
    ipFields,
    port,
    u8.map((x) => x | 0x08),
    fc.integer({ min: 0, max: 0xffffff }),
    plainFrame,
  )
  .map(([d, s, h, sport, flags, vni, inner]) => {
    const vx = new Uint8Array(VXLAN_HLEN + inner.length);
    emitVxlan(vx, 0, { flags: flags & 0x08, vni });
    vx.set(inner, VXLAN_HLEN);
    return ether(d, s, ETH_P_IP, ipPacket(h, IPPROTO_UDP, udp(h, sport, VXLAN_IANA_PORT, vx)));
  });

describe.skipIf(!HAVE_TCPDUMP)('describeFrame says what tcpdump says', () => {
  const fixtures = loadFixtures();

  it.each([...new Set(fixtures.map((f) => f.file))])('for every prefix of every frame in %s', (file) => {
    const mine = fixtures.filter((f) => f.file === file);
    const frames = mine.flatMap((f) => Array.from({ length: f.bytes.length }, (_, n) => f.bytes.subarray(0, n + 1)));
    compare(
      frames,
      mine[0]!.tcpdumpOptions.split(' ').filter((w) => w === '-T' || w === 'vxlan'),
    );
  });

  it('for frames built from random fields', () => {
    const frames = fc.sample(fc.oneof(plainFrame, vxlanFrame), { numRuns: 2000, seed: 20240601 });
    expect(frames.some((f) => f[12] === 0x08 && f[13] === 0x06)).toBe(true);
    expect(frames.every((f) => !isIpv6(f) && f.length > 0)).toBe(true);
    compare(frames);
  });

  it('for random frames cut short', () => {
    const frames = fc.sample(
      fc.tuple(fc.oneof(plainFrame, vxlanFrame), fc.nat()).map(([f, n]) => f.subarray(0, 1 + (n % f.length))),
      { numRuns: 2000, seed: 7 },
    );
    compare(frames);
  });
});

describe('IPv6 frames', () => {
  it('are the only fixtures left out of the comparison', () => {
    const left = loadFixtures().filter((f) => isIpv6(f.bytes));
    expect(left.every((f) => f.bytes[12] === ETH_P_IPV6 >> 8 && f.name.startsWith('ipv6'))).toBe(true);
  });
});
