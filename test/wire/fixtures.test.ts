// Every frame captured from real Linux: parse each header and compare with what tshark dissected, re-emit each
// header from its parsed record into a zeroed copy and compare the bytes, verify every checksum, and compare the
// one-line description with tcpdump's.

import { describe, expect, it } from 'vitest';
import { formatIpv4, formatMac, type Ipv4 } from '../../src/wire/addr.js';
import { emitArp, parseArp } from '../../src/wire/arp.js';
import { internetChecksum } from '../../src/wire/checksum.js';
import { describeFrame } from '../../src/wire/describe.js';
import { ETH_HLEN, ETH_P_ARP, ETH_P_IP, ETH_P_IPV6, emitEth, parseEth } from '../../src/wire/ethernet.js';
import {
  emitIcmpHeader,
  ICMP_DEST_UNREACH,
  ICMP_ECHO,
  ICMP_ECHOREPLY,
  ICMP_FRAG_NEEDED,
  ICMP_HLEN,
  icmpChecksumOk,
  icmpEchoId,
  icmpEchoSeq,
  icmpIsError,
  icmpNextHopMtu,
  parseIcmp,
} from '../../src/wire/icmp.js';
import {
  emitIpv4Header,
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  ipDf,
  ipDst,
  ipFragOffset,
  ipHeaderChecksumOk,
  ipHeaderLen,
  ipId,
  ipMf,
  ipProto,
  ipSrc,
  ipTos,
  ipTotalLen,
  ipTtl,
  parseIpv4Header,
} from '../../src/wire/ipv4.js';
import { emitTcpHeader, parseTcp, tcpChecksumOk } from '../../src/wire/tcp.js';
import { emitUdpHeader, parseUdp, UDP_HLEN, udpChecksumOk } from '../../src/wire/udp.js';
import { emitVxlan, parseVxlan, VXLAN_DEFAULT_PORT_LINUX, VXLAN_HLEN, VXLAN_IANA_PORT } from '../../src/wire/vxlan.js';
import { type Fixture, loadFixtures, TsharkCursor, toHex } from './fixtures.js';

const fixtures = loadFixtures();

/** Copy of b with b[from, to) zeroed, so that an emit has to write every byte of the header itself. */
function blanked(b: Uint8Array, from: number, to: number): Uint8Array {
  const c = b.slice();
  c.fill(0, from, to);
  return c;
}

const bool = (v: string): boolean => v === '1' || v === 'True';

function checkEth(b: Uint8Array, o: number, end: number, t: TsharkCursor): void {
  const eth = parseEth(b, o);
  expect(formatMac(eth.dst)).toBe(t.take('eth.dst'));
  expect(formatMac(eth.src)).toBe(t.take('eth.src'));
  expect(eth.ethertype).toBe(t.num('eth.type'));
  const c = blanked(b, o, o + ETH_HLEN);
  emitEth(c, o, eth);
  expect(toHex(c)).toBe(toHex(b));

  const p = o + ETH_HLEN;
  if (eth.ethertype === ETH_P_ARP) checkArp(b, p, t);
  else if (eth.ethertype === ETH_P_IP) checkIpv4(b, p, end, t);
  else expect(eth.ethertype).toBe(ETH_P_IPV6);
}

function checkArp(b: Uint8Array, o: number, t: TsharkCursor): void {
  const arp = parseArp(b, o);
  expect(t.num('arp.hw.type')).toBe(1);
  expect(t.num('arp.proto.type')).toBe(0x0800);
  expect(t.num('arp.hw.size')).toBe(6);
  expect(t.num('arp.proto.size')).toBe(4);
  expect(arp.op).toBe(t.num('arp.opcode'));
  expect(formatMac(arp.sha)).toBe(t.take('arp.src.hw_mac'));
  expect(formatIpv4(arp.spa)).toBe(t.take('arp.src.proto_ipv4'));
  expect(formatMac(arp.tha)).toBe(t.take('arp.dst.hw_mac'));
  expect(formatIpv4(arp.tpa)).toBe(t.take('arp.dst.proto_ipv4'));
  const c = blanked(b, o, o + 28);
  emitArp(c, o, arp);
  expect(toHex(c)).toBe(toHex(b));
}

function checkIpv4(b: Uint8Array, o: number, end: number, t: TsharkCursor): void {
  const ip = parseIpv4Header(b, o, end - o);
  expect(ip.headerLength).toBe(t.num('ip.hdr_len'));
  expect(ip.tos).toBe(t.num('ip.dsfield'));
  expect(ip.totalLength).toBe(t.num('ip.len'));
  expect(ip.id).toBe(t.num('ip.id'));
  expect(ip.df).toBe(bool(t.take('ip.flags.df')));
  expect(ip.mf).toBe(bool(t.take('ip.flags.mf')));
  expect(ip.fragOffset).toBe(t.num('ip.frag_offset') * 8);
  expect(ip.ttl).toBe(t.num('ip.ttl'));
  expect(ip.protocol).toBe(t.num('ip.proto'));
  expect(ip.checksum).toBe(t.num('ip.checksum'));
  expect(formatIpv4(ip.src)).toBe(t.take('ip.src'));
  expect(formatIpv4(ip.dst)).toBe(t.take('ip.dst'));
  expect(t.take('ip.checksum.status')).toBe('1');
  expect(ipHeaderChecksumOk(b, o)).toBe(true);

  // The accessors read the same bytes the parser did.
  expect([ipHeaderLen(b, o), ipTotalLen(b, o), ipId(b, o), ipTtl(b, o), ipProto(b, o), ipTos(b, o)]).toEqual([
    ip.headerLength,
    ip.totalLength,
    ip.id,
    ip.ttl,
    ip.protocol,
    ip.tos,
  ]);
  expect([ipSrc(b, o), ipDst(b, o), ipDf(b, o), ipMf(b, o), ipFragOffset(b, o)]).toEqual([
    ip.src,
    ip.dst,
    ip.df,
    ip.mf,
    ip.fragOffset,
  ]);

  const c = blanked(b, o, o + ip.headerLength);
  expect(emitIpv4Header(c, o, ip)).toBe(ip.headerLength);
  expect(toHex(c)).toBe(toHex(b));

  if (ip.fragOffset !== 0) return; // tshark (without reassembly) stops here too
  const l4 = o + ip.headerLength;
  const l4len = ip.totalLength - ip.headerLength;
  if (ip.protocol === IPPROTO_ICMP) checkIcmp(b, l4, l4len, t);
  else if (ip.protocol === IPPROTO_UDP) checkUdp(b, l4, l4len, ip.src, ip.dst, ip.mf, t);
  else if (ip.protocol === IPPROTO_TCP) checkTcp(b, l4, l4len, ip.src, ip.dst, t);
}

function checkIcmp(b: Uint8Array, o: number, len: number, t: TsharkCursor): void {
  const icmp = parseIcmp(b, o, len);
  expect(icmp.type).toBe(t.num('icmp.type'));
  expect(icmp.code).toBe(t.num('icmp.code'));
  expect(icmp.checksum).toBe(t.num('icmp.checksum'));
  expect(t.take('icmp.checksum.status')).toBe('1');
  expect(icmpChecksumOk(b, o, len)).toBe(true);
  expect(icmp.payload.length).toBe(len - ICMP_HLEN);
  if (icmp.type === ICMP_ECHO || icmp.type === ICMP_ECHOREPLY) {
    expect(icmpEchoId(b, o)).toBe(t.num('icmp.ident'));
    expect(icmpEchoSeq(b, o)).toBe(t.num('icmp.seq'));
  }
  if (icmp.type === ICMP_DEST_UNREACH && icmp.code === ICMP_FRAG_NEEDED) {
    const mtu = t.num('icmp.mtu');
    expect(icmpNextHopMtu(b, o)).toBe(mtu);
    expect(icmp.rest).toBe(mtu);
  }
  const c = blanked(b, o, o + ICMP_HLEN);
  emitIcmpHeader(c, o, icmp.type, icmp.code, icmp.rest, len);
  expect(toHex(c)).toBe(toHex(b));
  if (icmpIsError(icmp.type)) checkQuote(b, o + ICMP_HLEN, o + len, t);
}

/** The packet quoted in an ICMP error: cut short, so read through the accessors rather than parsed whole. */
function checkQuote(b: Uint8Array, q: number, end: number, t: TsharkCursor): void {
  expect(ipTotalLen(b, q)).toBe(t.num('ip.len'));
  expect(ipId(b, q)).toBe(t.num('ip.id'));
  expect(ipTtl(b, q)).toBe(t.num('ip.ttl'));
  expect(ipProto(b, q)).toBe(t.num('ip.proto'));
  expect(formatIpv4(ipSrc(b, q))).toBe(t.take('ip.src'));
  expect(formatIpv4(ipDst(b, q))).toBe(t.take('ip.dst'));
  expect(ipHeaderChecksumOk(b, q)).toBe(true);
  const l4 = q + ipHeaderLen(b, q);
  if (ipProto(b, q) === IPPROTO_UDP) {
    const udp = parseUdp(b, l4);
    expect(udp.srcPort).toBe(t.num('udp.srcport'));
    expect(udp.dstPort).toBe(t.num('udp.dstport'));
    expect(udp.length).toBe(t.num('udp.length'));
  } else if (ipProto(b, q) === IPPROTO_ICMP) {
    const icmp = parseIcmp(b, l4, end - l4);
    expect(icmp.type).toBe(t.num('icmp.type'));
    expect(icmp.code).toBe(t.num('icmp.code'));
    expect(icmpEchoId(b, l4)).toBe(t.num('icmp.ident'));
  }
}

function checkUdp(
  b: Uint8Array,
  o: number,
  len: number,
  src: Ipv4,
  dst: Ipv4,
  firstFragment: boolean,
  t: TsharkCursor,
): void {
  const udp = parseUdp(b, o, firstFragment ? undefined : len);
  expect(udp.srcPort).toBe(t.num('udp.srcport'));
  expect(udp.dstPort).toBe(t.num('udp.dstport'));
  expect(udp.length).toBe(t.num('udp.length'));
  expect(udp.checksum).toBe(t.num('udp.checksum'));
  const status = t.take('udp.checksum.status');
  if (firstFragment) {
    // Only a part of the datagram is here: tshark leaves it unverified, and so must we.
    expect(status).toBe('2');
    expect(() => parseUdp(b, o, len)).toThrow(/length 3008 > 1480/);
    return;
  }
  expect(udp.length).toBe(len);
  // 0 is "no checksum" (VXLAN with noudpcsum): tshark says "not present" (3).
  expect(status).toBe(udp.checksum === 0 ? '3' : '1');
  expect(udpChecksumOk(b, o, src, dst)).toBe(true);
  const c = blanked(b, o, o + UDP_HLEN);
  emitUdpHeader(c, o, udp.srcPort, udp.dstPort, udp.length, src, dst, udp.checksum !== 0);
  expect(toHex(c)).toBe(toHex(b));

  if (udp.dstPort === VXLAN_IANA_PORT || udp.dstPort === VXLAN_DEFAULT_PORT_LINUX) {
    const v = o + UDP_HLEN;
    const vx = parseVxlan(b, v);
    expect(vx.flags).toBe(t.num('vxlan.flags') >> 8);
    expect(t.take('vxlan.flag_i')).toBe('1');
    expect(vx.vni).toBe(t.num('vxlan.vni'));
    const cv = blanked(b, v, v + VXLAN_HLEN);
    emitVxlan(cv, v, vx);
    expect(toHex(cv)).toBe(toHex(b));
    checkEth(b, v + VXLAN_HLEN, o + len, t);
  }
}

function checkTcp(b: Uint8Array, o: number, len: number, src: Ipv4, dst: Ipv4, t: TsharkCursor): void {
  const tcp = parseTcp(b, o, len);
  expect(tcp.srcPort).toBe(t.num('tcp.srcport'));
  expect(tcp.dstPort).toBe(t.num('tcp.dstport'));
  expect(tcp.seq).toBe(t.num('tcp.seq_raw'));
  expect(tcp.ack).toBe(t.num('tcp.ack_raw'));
  expect(tcp.headerLength).toBe(t.num('tcp.hdr_len'));
  expect(tcp.flags).toBe(t.num('tcp.flags'));
  expect(tcp.window).toBe(t.num('tcp.window_size_value'));
  expect(tcp.checksum).toBe(t.num('tcp.checksum'));
  expect(tcp.urgent).toBe(t.num('tcp.urgent_pointer'));
  expect(len - tcp.headerLength).toBe(t.num('tcp.len'));
  expect(t.take('tcp.checksum.status')).toBe('1');
  expect(tcpChecksumOk(b, o, len, src, dst)).toBe(true);

  const opts = tcp.options;
  expect(opts.mss).toBe(t.has('tcp.options.mss_val') ? t.num('tcp.options.mss_val') : undefined);
  expect(opts.wscale).toBe(t.has('tcp.options.wscale.shift') ? t.num('tcp.options.wscale.shift') : undefined);
  expect(opts.sackPerm ?? false).toBe(t.has('tcp.options.sack_perm') && t.take('tcp.options.sack_perm') !== '');
  expect(opts.timestamp).toEqual(
    t.has('tcp.options.timestamp.tsval')
      ? [t.num('tcp.options.timestamp.tsval'), t.num('tcp.options.timestamp.tsecr')]
      : undefined,
  );

  // Linux's option layout is the only one emitTcpHeader writes: the re-emitted header must match byte for byte.
  const c = blanked(b, o, o + tcp.headerLength);
  expect(emitTcpHeader(c, o, tcp, len - tcp.headerLength, src, dst)).toBe(tcp.headerLength);
  expect(toHex(c)).toBe(toHex(b));
}

/** Fields that must all have been matched by the walk: proof that it visited every header tshark saw. */
const MUST_CONSUME = [
  'eth.type',
  'arp.opcode',
  'ip.src',
  'ip.len',
  'icmp.type',
  'icmp.ident',
  'udp.srcport',
  'tcp.srcport',
  'vxlan.vni',
  'tcp.options.mss_val',
  'tcp.options.timestamp.tsval',
];

function walk(f: Fixture): TsharkCursor {
  const t = new TsharkCursor(f.tshark);
  checkEth(f.bytes, 0, f.bytes.length, t);
  return t;
}

describe('frames captured from Linux', () => {
  it('has fixtures of every kind the capture script makes', () => {
    const names = fixtures.map((f) => f.name).join(' ');
    for (const kind of [
      'arp-request',
      'arp-reply',
      'icmp-echo-request',
      'icmp-echo-reply',
      'icmp-time-exceeded',
      'icmp-unreach-0',
      'icmp-unreach-1',
      'icmp-unreach-3',
      'icmp-unreach-4',
      'icmp-unreach-13',
      'tcp-syn',
      'tcp-syn-ack',
      'tcp-psh-ack',
      'tcp-fin-ack',
      'tcp-rst-ack',
      'udp-frag',
      'vxlan-icmp-echo-request',
      'vxlan-arp-request',
      'vxlan-udp',
      'ipv6',
    ]) {
      expect(names).toContain(kind);
    }
  });

  describe.each(fixtures.map((f) => [f.name, f] as const))('%s', (_name, f) => {
    it('parses to what tshark dissected, re-emits the same bytes and has valid checksums', () => {
      const t = walk(f);
      expect(t.leftover(MUST_CONSUME)).toEqual([]);
    });

    it('describes the frame as tcpdump -n -t -S does', () => {
      const expected = f.tcpdump.replace('\n', ': ');
      if (f.name.includes('ipv6')) {
        // Only the addresses are printed for IPv6.
        expect(describeFrame(f.bytes)).toMatch(/^IP6 \S+ > \S+: /);
        expect(describeFrame(f.bytes).split(': ')[0]).toBe(expected.split(': ')[0]);
      } else {
        expect(describeFrame(f.bytes)).toBe(expected);
      }
    });
  });
});

describe('ICMP error checksums cover the whole message', () => {
  it('a full recomputation over each captured error gives the stored value', () => {
    for (const f of fixtures) {
      const b = f.bytes;
      if (parseEth(b, 0).ethertype !== ETH_P_IP) continue;
      const ip = parseIpv4Header(b, ETH_HLEN);
      if (ip.protocol !== IPPROTO_ICMP) continue;
      const o = ETH_HLEN + ip.headerLength;
      const c = b.slice();
      c[o + 2] = 0;
      c[o + 3] = 0;
      expect(internetChecksum(c, o, ip.totalLength - ip.headerLength)).toBe(parseIcmp(b, o, 8).checksum);
    }
  });
});
