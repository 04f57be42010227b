// emit → parse → emit for every header with arbitrary field values: the record comes back unchanged, the bytes
// come back identical, and every emitted checksum verifies.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readU16 } from '../../src/wire/addr.js';
import { type ArpRepr, emitArp, parseArp } from '../../src/wire/arp.js';
import { type EthRepr, emitEth, ethType, parseEth } from '../../src/wire/ethernet.js';
import { emitIcmpHeader, icmpChecksumOk, icmpEchoId, icmpEchoSeq, parseIcmp } from '../../src/wire/icmp.js';
import {
  emitIpv4Header,
  type Ipv4Repr,
  ipDf,
  ipFragOffset,
  ipHeaderChecksumOk,
  ipMf,
  ipTtl,
  parseIpv4Header,
} from '../../src/wire/ipv4.js';
import {
  emitTcpHeader,
  parseTcp,
  TCP_SYN,
  type TcpOptions,
  tcpChecksumOk,
  tcpOptionsLength,
} from '../../src/wire/tcp.js';
import { emitUdpHeader, parseUdp, udpChecksumOk } from '../../src/wire/udp.js';
import { emitVxlan, parseVxlan } from '../../src/wire/vxlan.js';
import { toHex } from './fixtures.js';

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.tuple(u16, u16).map(([h, l]) => h * 0x10000 + l);
const mac = fc.tuple(u16, u32).map(([h, l]) => h * 0x100000000 + l);
const offset = fc.integer({ min: 0, max: 7 });

describe('emit → parse round trips', () => {
  it('Ethernet', () => {
    fc.assert(
      fc.property(fc.record({ dst: mac, src: mac, ethertype: u16 }), offset, (r: EthRepr, o) => {
        const b = new Uint8Array(o + 14);
        emitEth(b, o, r);
        expect(parseEth(b, o)).toEqual(r);
        expect(ethType(b, o)).toBe(r.ethertype);
      }),
    );
  });

  it('ARP', () => {
    fc.assert(
      fc.property(fc.record({ op: u16, sha: mac, spa: u32, tha: mac, tpa: u32 }), offset, (r: ArpRepr, o) => {
        const b = new Uint8Array(o + 28);
        emitArp(b, o, r);
        expect(parseArp(b, o)).toEqual(r);
      }),
    );
  });

  const ipv4 = fc
    .record({
      tos: u8,
      id: u16,
      df: fc.boolean(),
      mf: fc.boolean(),
      fragOffset: fc.integer({ min: 0, max: 0x1fff }).map((x) => x * 8),
      ttl: u8,
      protocol: u8,
      src: u32,
      dst: u32,
      options: fc.uint8Array({ minLength: 0, maxLength: 40 }),
      payload: fc.integer({ min: 0, max: 100 }),
    })
    .map(({ payload, ...r }) => {
      const hl = 20 + ((r.options.length + 3) & ~3);
      return { ...r, totalLength: hl + payload };
    });

  it('IPv4, options padded to 4 bytes', () => {
    fc.assert(
      fc.property(ipv4, offset, (r, o) => {
        const b = new Uint8Array(o + r.totalLength).fill(0xee);
        const hl = emitIpv4Header(b, o, r);
        expect(hl).toBe(20 + ((r.options.length + 3) & ~3));
        expect(ipHeaderChecksumOk(b, o)).toBe(true);
        const p: Ipv4Repr = parseIpv4Header(b, o);
        const padded = new Uint8Array(hl - 20);
        padded.set(r.options);
        expect(p).toEqual({ ...r, options: padded, headerLength: hl, checksum: readU16(b, o + 10) });
        expect([ipTtl(b, o), ipDf(b, o), ipMf(b, o), ipFragOffset(b, o)]).toEqual([r.ttl, r.df, r.mf, r.fragOffset]);
        const again = b.slice();
        emitIpv4Header(again, o, p);
        expect(toHex(again)).toBe(toHex(b));
      }),
    );
  });

  it('ICMP', () => {
    fc.assert(
      fc.property(u8, u8, u32, fc.uint8Array({ maxLength: 600 }), offset, (type, code, rest, payload, o) => {
        const b = new Uint8Array(o + 8 + payload.length);
        b.set(payload, o + 8);
        emitIcmpHeader(b, o, type, code, rest, 8 + payload.length);
        expect(icmpChecksumOk(b, o, 8 + payload.length)).toBe(true);
        const p = parseIcmp(b, o, 8 + payload.length);
        expect(p).toEqual({ type, code, rest, checksum: readU16(b, o + 2), payload });
        expect([icmpEchoId(b, o), icmpEchoSeq(b, o)]).toEqual([rest >>> 16, rest & 0xffff]);
      }),
    );
  });

  it('UDP, never sending a computed zero as 0', () => {
    fc.assert(
      fc.property(u16, u16, u32, u32, fc.uint8Array({ maxLength: 600 }), offset, (sp, dp, src, dst, payload, o) => {
        const len = 8 + payload.length;
        const b = new Uint8Array(o + len);
        b.set(payload, o + 8);
        emitUdpHeader(b, o, sp, dp, len, src, dst);
        const p = parseUdp(b, o, len);
        expect(p).toEqual({ srcPort: sp, dstPort: dp, length: len, checksum: readU16(b, o + 6) });
        expect(p.checksum).not.toBe(0);
        expect(udpChecksumOk(b, o, src, dst)).toBe(true);
        // Flipping one bit changes the ones' complement sum by ±1, which never folds back to a valid checksum
        // (src + 1 could: 0xffffffff + 1 wraps to 0, and 0xffff + 0xffff ≡ 0 in ones' complement).
        expect(udpChecksumOk(b, o, (src ^ 1) >>> 0, dst)).toBe(false);
        emitUdpHeader(b, o, sp, dp, len, src, dst, false);
        expect(readU16(b, o + 6)).toBe(0);
        expect(udpChecksumOk(b, o, (src ^ 1) >>> 0, dst)).toBe(true);
      }),
    );
  });

  it('UDP whose sum comes out as zero is sent with 0xffff', () => {
    // Payload chosen so that header + pseudo-header + payload sum to 0xffff: the complement is 0.
    const b = new Uint8Array(10);
    emitUdpHeader(b, 0, 0, 0, 10, 0, 0);
    const needed = readU16(b, 6); // checksum with a zero payload word
    b[8] = needed >> 8;
    b[9] = needed & 0xff;
    emitUdpHeader(b, 0, 0, 0, 10, 0, 0);
    expect(readU16(b, 6)).toBe(0xffff);
    expect(udpChecksumOk(b, 0, 0, 0)).toBe(true);
  });

  const tcpOptions: fc.Arbitrary<TcpOptions> = fc
    .record(
      {
        mss: u16,
        wscale: fc.integer({ min: 0, max: 14 }),
        sackPerm: fc.constant(true),
        timestamp: fc.tuple(u32, u32),
        sack: fc.array(fc.tuple(u32, u32), { minLength: 1, maxLength: 4 }),
      },
      { requiredKeys: [] },
    )
    .filter((opts) => tcpOptionsLength(opts) <= 40);

  it('TCP with any option set that fits', () => {
    fc.assert(
      fc.property(
        fc.record({ srcPort: u16, dstPort: u16, seq: u32, ack: u32, flags: fc.integer({ min: 0, max: 0xfff }) }),
        u16,
        u16,
        tcpOptions,
        u32,
        u32,
        fc.uint8Array({ maxLength: 200 }),
        offset,
        (h, window, urgent, options, src, dst, payload, o) => {
          const hl = 20 + tcpOptionsLength(options);
          const b = new Uint8Array(o + hl + payload.length);
          b.set(payload, o + hl);
          const r = { ...h, window, urgent, options };
          expect(emitTcpHeader(b, o, r, payload.length, src, dst)).toBe(hl);
          expect(tcpChecksumOk(b, o, hl + payload.length, src, dst)).toBe(true);
          const p = parseTcp(b, o, hl + payload.length);
          expect(p).toEqual({ ...r, headerLength: hl, checksum: readU16(b, o + 16) });
          const again = b.slice();
          emitTcpHeader(again, o, p, payload.length, src, dst);
          expect(toHex(again)).toBe(toHex(b));
        },
      ),
    );
  });

  it('TCP options in the layout of a Linux SYN', () => {
    const b = new Uint8Array(40);
    const options = { mss: 1460, sackPerm: true, timestamp: [1, 0] as [number, number], wscale: 7 };
    emitTcpHeader(b, 0, { srcPort: 1, dstPort: 2, seq: 3, ack: 0, flags: TCP_SYN, window: 64240, options }, 0, 1, 2);
    expect(toHex(b.subarray(20))).toBe('020405b4' + '0402080a' + '00000001' + '00000000' + '01030307');
    const noTs = new Uint8Array(32);
    emitTcpHeader(
      noTs,
      0,
      {
        srcPort: 1,
        dstPort: 2,
        seq: 3,
        ack: 0,
        flags: TCP_SYN,
        window: 1,
        options: { mss: 1460, sackPerm: true, wscale: 7 },
      },
      0,
      1,
      2,
    );
    expect(toHex(noTs.subarray(20))).toBe('020405b4' + '01010402' + '01030307');
    const ack = new Uint8Array(32);
    emitTcpHeader(
      ack,
      0,
      { srcPort: 1, dstPort: 2, seq: 3, ack: 4, flags: 16, window: 1, options: { timestamp: [5, 6] } },
      0,
      1,
      2,
    );
    expect(toHex(ack.subarray(20))).toBe('0101080a' + '00000005' + '00000006');
  });

  it('VXLAN', () => {
    fc.assert(
      fc.property(u8, fc.integer({ min: 0, max: 0xffffff }), offset, (flags, vni, o) => {
        const b = new Uint8Array(o + 8).fill(0xaa);
        emitVxlan(b, o, { flags, vni });
        expect(parseVxlan(b, o)).toEqual({ flags, vni });
        expect([b[o + 1], b[o + 2], b[o + 3], b[o + 7]]).toEqual([0, 0, 0, 0]);
      }),
    );
  });
});
