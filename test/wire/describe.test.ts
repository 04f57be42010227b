// describeFrame on malformed and unusual frames, with the wording tcpdump 4.99 printed for the same bytes
// (frames made from the captured ones by cutting or changing a field), and the small formatters it uses.

import { describe, expect, it } from 'vitest';
import { formatIpv4, readU16, writeU16 } from '../../src/wire/addr.js';
import { describeFrame, formatIpv6 } from '../../src/wire/describe.js';
import { ETH_HLEN } from '../../src/wire/ethernet.js';
import { icmpEchoId, icmpTypeName } from '../../src/wire/icmp.js';
import { ipDst, ipSrc } from '../../src/wire/ipv4.js';
import {
  TCP_ACK,
  TCP_CWR,
  TCP_ECE,
  TCP_FIN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  TCP_URG,
  tcpFlagsString,
} from '../../src/wire/tcp.js';
import { fromHex, loadFixtures } from './fixtures.js';

const fixtures = loadFixtures();
const byName = (name: string): Uint8Array => fixtures.find((f) => f.name === name)!.bytes;
const echo = byName('ping-03-icmp-echo-request');
const syn = byName('tcp-01-tcp-syn');
const arp = byName('ping-01-arp-request');
const id = icmpEchoId(echo, 34);
const src = formatIpv4(ipSrc(echo, 14));
const dst = formatIpv4(ipDst(echo, 14));

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function withByte(b: Uint8Array, at: number, v: number): Uint8Array {
  const c = b.slice();
  c[at] = v;
  return c;
}

describe('describeFrame on odd frames, as tcpdump words them', () => {
  it('unknown ethertype: addresses, type and frame length', () => {
    const f = concat(echo.subarray(0, 12), fromHex('88b5'), new Uint8Array(46));
    expect(describeFrame(f)).toBe('02:77:01:00:00:01 > 02:77:01:00:00:fe, ethertype Unknown (0x88b5), length 60');
  });

  it('802.1Q tag: skipped, the payload described', () => {
    const f = concat(echo.subarray(0, 12), fromHex('81000064'), echo.subarray(12));
    expect(describeFrame(f)).toBe(describeFrame(echo));
  });

  it('frames cut short', () => {
    expect(describeFrame(echo.subarray(0, 12))).toBe('[|ether]');
    expect(describeFrame(arp.subarray(0, 40))).toBe('[|arp]');
    expect(describeFrame(echo.subarray(0, 30))).toBe('IP  [|ip]');
    expect(describeFrame(echo.subarray(0, 34))).toBe(`IP truncated-ip - 64 bytes missing! ${src} > ${dst}:  [|icmp]`);
    expect(describeFrame(echo.subarray(0, 34 + 20))).toBe(
      `IP truncated-ip - 44 bytes missing! ${src} > ${dst}: ICMP echo request, id ${id}, seq 1, length 64`,
    );
    expect(describeFrame(echo.subarray(0, 34 + 1))).toBe(
      `IP truncated-ip - 63 bytes missing! ${src} > ${dst}:  [|icmp]`,
    );
    const ports = `${readU16(syn, 34)} > 10.77.2.1.${readU16(syn, 36)}`;
    expect(describeFrame(syn.subarray(0, 34 + 10))).toBe(
      `IP truncated-ip - 30 bytes missing! 10.77.1.1.${ports}:  [|tcp]`,
    );
  });

  it('bad IPv4 headers', () => {
    expect(describeFrame(withByte(echo, 14, 0x55))).toBe('IP5 (invalid)');
    expect(describeFrame(withByte(echo, 14, 0x44))).toBe('IP bad-hlen 16');
    const short = echo.slice();
    writeU16(short, 16, 32);
    expect(describeFrame(short)).toBe(`IP ${src} > ${dst}: ICMP echo request, id ${id}, seq 1, length 12`);
    const long = echo.slice();
    writeU16(long, 16, 1024);
    expect(describeFrame(long)).toBe(
      `IP truncated-ip - 940 bytes missing! ${src} > ${dst}: ICMP echo request, id ${id}, seq 1, length 1004`,
    );
  });

  it('protocols not decoded', () => {
    expect(describeFrame(withByte(echo, 23, 253))).toBe(`IP ${src} > ${dst}:  ip-proto-253 64`);
  });

  it('non-first fragment', () => {
    expect(describeFrame(byName('udp-04-frag'))).toBe('IP 10.77.1.1 > 10.77.2.1: ip-proto-17');
  });

  it('ARP opcodes besides request and reply', () => {
    const rarp = arp.slice();
    writeU16(rarp, 20, 3);
    expect(describeFrame(rarp)).toBe('ARP, Reverse Request who-is 00:00:00:00:00:00 tell 02:77:01:00:00:01, length 28');
    const tha = arp.slice();
    tha.set(fromHex('0a5800000001'), 32);
    expect(describeFrame(tha)).toBe('ARP, Request who-has 10.77.1.254 (0a:58:00:00:00:01) tell 10.77.1.1, length 28');
  });

  it('IPv6: addresses, then said to be unsupported', () => {
    expect(describeFrame(byName('ipv6-01-ipv6'))).toBe(
      'IP6 fd77::1 > ff02::1:ff00:2: next-header 58, length 32 (IPv6 not supported)',
    );
    expect(describeFrame(byName('ipv6-01-ipv6').subarray(0, ETH_HLEN + 39))).toBe('IP6 [|ip6]');
  });
});

describe('formatters', () => {
  it('formatIpv6 compresses as inet_ntop does', () => {
    const cases: [string, string][] = [
      ['00000000000000000000000000000001', '::1'],
      ['00000000000000000000000000000000', '::'],
      ['fe800000000000000077006fffe00002', 'fe80::77:6f:ffe0:2'],
      ['00010000000100000001000000010000', '1:0:1:0:1:0:1:0'],
      ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
      ['00010000000000000000000000000000', '1::'],
    ];
    for (const [hex, text] of cases) expect(formatIpv6(fromHex(hex), 0)).toBe(text);
  });

  it('tcpFlagsString uses tcpdump letters and order', () => {
    expect(tcpFlagsString(TCP_SYN)).toBe('[S]');
    expect(tcpFlagsString(TCP_SYN | TCP_ACK)).toBe('[S.]');
    expect(tcpFlagsString(TCP_ACK)).toBe('[.]');
    expect(tcpFlagsString(TCP_PSH | TCP_ACK)).toBe('[P.]');
    expect(tcpFlagsString(TCP_FIN | TCP_ACK)).toBe('[F.]');
    expect(tcpFlagsString(TCP_RST | TCP_ACK)).toBe('[R.]');
    expect(tcpFlagsString(TCP_RST)).toBe('[R]');
    expect(tcpFlagsString(0)).toBe('[none]');
    expect(tcpFlagsString(0x1ff)).toBe('[FSRP.UEWe]');
    expect(tcpFlagsString(TCP_URG | TCP_ECE | TCP_CWR)).toBe('[UEW]');
  });

  it('icmpTypeName', () => {
    expect(icmpTypeName(8, 0)).toBe('echo request');
    expect(icmpTypeName(0, 0)).toBe('echo reply');
    expect(icmpTypeName(11, 0)).toBe('time exceeded in-transit');
    expect(icmpTypeName(11, 1)).toBe('ip reassembly time exceeded');
    expect(icmpTypeName(3, 3)).toBe('port unreachable');
    expect(icmpTypeName(3, 4)).toBe('unreachable - need to frag');
    expect(icmpTypeName(3, 13)).toBe('host unreachable - admin prohibited filter');
    expect(icmpTypeName(3, 99)).toBe('unreachable - #99');
    expect(icmpTypeName(77, 0)).toBe('type-#77');
  });
});
