// What Linux puts in an ICMP error, read from the captured errors and the packets that caused them: the quote is
// capped so that the error is at most 576 bytes, and it is the offending packet as it stood when the error was
// raised — after the forwarding TTL decrement for errors raised past that point. Comparing the quote with the
// original run through ipDecreaseTtl checks that function byte for byte against the kernel's ip_decrease_ttl.

import { describe, expect, it } from 'vitest';
import { ETH_HLEN, ETH_P_IP, parseEth } from '../../src/wire/ethernet.js';
import { ICMP_ERROR_QUOTE_MAX, ICMP_HLEN, icmpErrorQuoteLen, icmpIsError, parseIcmp } from '../../src/wire/icmp.js';
import { parseUdp, UDP_HLEN, VXLAN_DEFAULT_PORT_LINUX, VXLAN_HLEN, VXLAN_IANA_PORT } from '../../src/wire/index.js';
import { IPPROTO_ICMP, IPPROTO_UDP, ipDecreaseTtl, ipDst, ipId, ipSrc, parseIpv4Header } from '../../src/wire/ipv4.js';
import { type Fixture, loadFixtures, toHex } from './fixtures.js';

/** Offset of the IPv4 header of the innermost frame (inside VXLAN, if any), or -1. */
function innerIp(b: Uint8Array): number {
  let o = 0;
  for (let depth = 0; depth < 3; depth++) {
    if (parseEth(b, o).ethertype !== ETH_P_IP) return -1;
    const ip = parseIpv4Header(b, o + ETH_HLEN);
    const l4 = o + ETH_HLEN + ip.headerLength;
    if (ip.protocol !== IPPROTO_UDP || ip.fragOffset !== 0 || ip.mf) return o + ETH_HLEN;
    const udp = parseUdp(b, l4);
    if (udp.dstPort !== VXLAN_IANA_PORT && udp.dstPort !== VXLAN_DEFAULT_PORT_LINUX) return o + ETH_HLEN;
    o = l4 + UDP_HLEN + VXLAN_HLEN;
  }
  return -1;
}

interface ErrorCase {
  error: Fixture;
  errorIp: number;
  original: Fixture;
  originalIp: number;
}

function errorCases(): ErrorCase[] {
  const all = loadFixtures();
  const cases: ErrorCase[] = [];
  for (const f of all) {
    const ipo = innerIp(f.bytes);
    if (ipo < 0) continue;
    const ip = parseIpv4Header(f.bytes, ipo);
    if (ip.protocol !== IPPROTO_ICMP || !icmpIsError(f.bytes[ipo + ip.headerLength]!)) continue;
    const q = ipo + ip.headerLength + ICMP_HLEN;
    const original = all.find((g) => {
      if (g.file !== f.file || g === f) return false;
      const o = innerIp(g.bytes);
      return (
        o >= 0 &&
        ipId(g.bytes, o) === ipId(f.bytes, q) &&
        ipSrc(g.bytes, o) === ipSrc(f.bytes, q) &&
        ipDst(g.bytes, o) === ipDst(f.bytes, q)
      );
    });
    if (!original) throw new Error(`${f.name}: the packet it quotes was not captured`);
    cases.push({ error: f, errorIp: ipo, original, originalIp: innerIp(original.bytes) });
  }
  return cases;
}

// Where each error is raised, hence whether the quoted packet had already been through ip_decrease_ttl, and
// how many routers the error crossed before the capture point (each took one off its TTL of 64).
const RAISED: Record<string, { afterForwarding: boolean; routersBack: number }> = {
  // ip_forward refuses TTL <= 1 before the decrement.
  'ttl-02-icmp-time-exceeded': { afterForwarding: false, routersBack: 0 },
  // ip_forward checks the MTU before the decrement too.
  'fragneeded-02-icmp-unreach-4': { afterForwarding: false, routersBack: 0 },
  // ip_error: no route, raised at input.
  'unreach-08-icmp-unreach-0': { afterForwarding: false, routersBack: 0 },
  // iptables REJECT in FORWARD runs after the decrement.
  'unreach-06-icmp-unreach-13': { afterForwarding: true, routersBack: 0 },
  // Neighbour resolution failed on the way out.
  'hostunreach-04-icmp-unreach-1': { afterForwarding: true, routersBack: 0 },
  // Port unreachable from b, which got the datagram through r; the error comes back through r.
  'unreach-02-icmp-unreach-3': { afterForwarding: true, routersBack: 1 },
  'unreach-04-icmp-unreach-3': { afterForwarding: true, routersBack: 1 },
  // Inside the overlay: no router on the way.
  'vxlan4789-06-vxlan-icmp-unreach-3': { afterForwarding: false, routersBack: 0 },
};

const cases = errorCases();

describe('ICMP errors sent by Linux', () => {
  it('covers every captured error', () => {
    expect(cases.map((c) => c.error.name).sort()).toEqual(Object.keys(RAISED).sort());
  });

  describe.each(cases.map((c) => [c.error.name, c] as const))('%s', (name, c) => {
    const err = parseIpv4Header(c.error.bytes, c.errorIp);
    const orig = parseIpv4Header(c.original.bytes, c.originalIp);
    const icmp = parseIcmp(c.error.bytes, c.errorIp + err.headerLength, err.totalLength - err.headerLength);

    it('quotes min(original length, 548) bytes, so the error is at most 576 bytes', () => {
      const quoteLen = icmpErrorQuoteLen(orig.totalLength);
      expect(icmp.payload.length).toBe(quoteLen);
      expect(err.totalLength).toBe(20 + 8 + quoteLen);
      expect(err.totalLength).toBeLessThanOrEqual(576);
    });

    it('quotes the packet as it was when the error was raised', () => {
      const original = c.original.bytes.slice(c.originalIp, c.originalIp + orig.totalLength);
      if (RAISED[name]!.afterForwarding) ipDecreaseTtl(original, 0);
      expect(toHex(icmp.payload)).toBe(toHex(original.subarray(0, icmp.payload.length)));
    });

    it('is sent with TOS 0xc0 (IPTOS_PREC_INTERNETCONTROL), TTL 64 and no DF', () => {
      expect([err.tos, err.ttl, err.df]).toEqual([0xc0, 64 - RAISED[name]!.routersBack, false]);
    });
  });

  it('a 1028-byte datagram to a closed port gets a 576-byte error quoting 548 bytes', () => {
    const big = cases.find((c) => c.error.name === 'unreach-04-icmp-unreach-3')!;
    expect(parseIpv4Header(big.original.bytes, big.originalIp).totalLength).toBe(1028);
    expect(parseIpv4Header(big.error.bytes, big.errorIp).totalLength).toBe(576);
    expect(ICMP_ERROR_QUOTE_MAX).toBe(548);
    expect(icmpErrorQuoteLen(1028)).toBe(548);
    expect(icmpErrorQuoteLen(548)).toBe(548);
    expect(icmpErrorQuoteLen(84)).toBe(84);
  });
});
