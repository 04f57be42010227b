// Hand-built IPv4 packets for the conntrack tests (emitted with the wire helpers, so every checksum is right),
// a full recomputation of every checksum in a packet (outer IP, TCP/UDP/ICMP, and the quoted header of an ICMP
// error) to prove NAT's incremental updates left them valid, and a small router that drives one namespace's
// conntrack through the hooks a forwarded packet crosses.

import { Conntrack, type CtResult } from '../../src/iptables/conntrack/index.js';
import type { NatKind, NatRange } from '../../src/iptables/types.js';
import { addAddr } from '../../src/netns/ifaddr.js';
import { Kernel } from '../../src/netns/kernel.js';
import { createDummy } from '../../src/netns/link.js';
import type { NetDev } from '../../src/netns/netdev.js';
import type { NetNs } from '../../src/netns/netns.js';
import { Skb } from '../../src/netns/skb.js';
import type { Nanos } from '../../src/sim/events.js';
import { Rng } from '../../src/sim/rng.js';
import { parseIpv4, readU16, writeU16 } from '../../src/wire/addr.js';
import { checksumAdd, checksumFinish, internetChecksum, pseudoHeaderSum } from '../../src/wire/checksum.js';
import { emitIcmpHeader } from '../../src/wire/icmp.js';
import {
  emitIpv4Header,
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  ipDecreaseTtl,
  ipHeaderChecksumOk,
} from '../../src/wire/ipv4.js';
import { emitTcpHeader, type TcpOptions } from '../../src/wire/tcp.js';
import { emitUdpHeader } from '../../src/wire/udp.js';

export function ip(s: string): number {
  const a = parseIpv4(s);
  if (a === null) throw new Error(`bad address ${s}`);
  return a;
}

let nextId = 1;

function ipPacket(src: number, dst: number, proto: number, l4len: number, ttl = 64): Skb {
  const skb = Skb.alloc(nextId++, 20 + l4len);
  skb.nh = skb.head;
  skb.th = skb.head + 20;
  emitIpv4Header(skb.buf, skb.nh, {
    tos: 0,
    totalLength: 20 + l4len,
    id: 0x1234,
    df: true,
    mf: false,
    fragOffset: 0,
    ttl,
    protocol: proto,
    src,
    dst,
    options: new Uint8Array(0),
  });
  return skb;
}

export interface TcpSpec {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  flags: number;
  seq?: number;
  ack?: number;
  win?: number;
  payload?: Uint8Array;
  options?: TcpOptions;
}

export function tcp(s: TcpSpec): Skb {
  const options = s.options ?? {};
  const optLen =
    (options.mss !== undefined ? 4 : 0) + (options.wscale !== undefined ? 4 : 0) + (options.sackPerm ? 4 : 0);
  const payload = s.payload ?? new Uint8Array(0);
  const skb = ipPacket(ip(s.src), ip(s.dst), IPPROTO_TCP, 20 + optLen + payload.length);
  skb.buf.set(payload, skb.th + 20 + optLen);
  emitTcpHeader(
    skb.buf,
    skb.th,
    {
      srcPort: s.sport,
      dstPort: s.dport,
      seq: s.seq ?? 0,
      ack: s.ack ?? 0,
      flags: s.flags,
      window: s.win ?? 64240,
      options,
    },
    payload.length,
    ip(s.src),
    ip(s.dst),
  );
  return skb;
}

export function udp(src: string, dst: string, sport: number, dport: number, payload = 'x', checksum = true): Skb {
  const data = new TextEncoder().encode(payload);
  const skb = ipPacket(ip(src), ip(dst), IPPROTO_UDP, 8 + data.length);
  skb.buf.set(data, skb.th + 8);
  emitUdpHeader(skb.buf, skb.th, sport, dport, 8 + data.length, ip(src), ip(dst), checksum);
  return skb;
}

export function icmpEcho(src: string, dst: string, type: 8 | 0, id: number, seq = 1): Skb {
  const skb = ipPacket(ip(src), ip(dst), IPPROTO_ICMP, 16);
  skb.buf.fill(0x41, skb.th + 8, skb.th + 16);
  emitIcmpHeader(skb.buf, skb.th, type, 0, ((id << 16) | seq) >>> 0, 16);
  return skb;
}

/** An ICMP error from `src` to `dst` quoting the first `quoteLen` bytes of `offending` (an IP packet). */
export function icmpError(src: string, dst: string, type: number, code: number, offending: Skb, quoteLen = 548): Skb {
  const quote = offending.buf.slice(offending.nh, Math.min(offending.end, offending.nh + quoteLen));
  const skb = ipPacket(ip(src), ip(dst), IPPROTO_ICMP, 8 + quote.length);
  skb.buf.set(quote, skb.th + 8);
  emitIcmpHeader(skb.buf, skb.th, type, code, 0, 8 + quote.length);
  return skb;
}

export function rawIp(src: string, dst: string, proto: number, payload = 'hello'): Skb {
  const data = new TextEncoder().encode(payload);
  const skb = ipPacket(ip(src), ip(dst), proto, data.length);
  skb.buf.set(data, skb.th);
  return skb;
}

/** A packet from bytes captured on the wire (IPv4 header first). */
export function fromBytes(bytes: Uint8Array): Skb {
  const skb = Skb.alloc(nextId++, bytes.length);
  skb.buf.set(bytes, skb.head);
  skb.nh = skb.head;
  skb.th = skb.head + (bytes[0]! & 0x0f) * 4;
  return skb;
}

export function bytesOf(skb: Skb): Uint8Array {
  return skb.buf.slice(skb.nh, skb.end);
}

/** Recomputes every checksum from scratch; returns the names of the wrong ones (empty when all are valid). */
export function badChecksums(b: Uint8Array, nh = 0, end = b.length, inner = false): string[] {
  const bad: string[] = [];
  const where = inner ? 'inner ' : '';
  if (!ipHeaderChecksumOk(b, nh)) bad.push(`${where}ip`);
  const hl = (b[nh]! & 0x0f) * 4;
  const th = nh + hl;
  const proto = b[nh + 9]!;
  const src = readU32At(b, nh + 12);
  const dst = readU32At(b, nh + 16);
  const total = readU16(b, nh + 2);
  const len = Math.min(end, nh + total) - th;
  // A quoted header is cut short: only a complete segment can be checked.
  const complete = nh + total <= end;
  if (proto === IPPROTO_TCP && complete) {
    if (checksumFinish(checksumAdd(pseudoHeaderSum(src, dst, IPPROTO_TCP, len), b, th, len)) !== 0)
      bad.push(`${where}tcp`);
  } else if (proto === IPPROTO_UDP && complete) {
    if (readU16(b, th + 6) !== 0) {
      if (checksumFinish(checksumAdd(pseudoHeaderSum(src, dst, IPPROTO_UDP, len), b, th, len)) !== 0)
        bad.push(`${where}udp`);
    }
  } else if (proto === IPPROTO_ICMP && complete) {
    if (internetChecksum(b, th, len) !== 0) bad.push(`${where}icmp`);
    const type = b[th]!;
    if (!inner && (type === 3 || type === 11 || type === 12 || type === 4 || type === 5))
      bad.push(...badChecksums(b, th + 8, nh + total, true));
  }
  return bad;
}

function readU32At(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** Sets a 16-bit field and leaves every checksum as it was (to make a packet deliberately broken). */
export function poke16(skb: Skb, off: number, v: number): void {
  writeU16(skb.buf, skb.nh + off, v);
}

export type NatRule = (
  skb: Skb,
  ctx: { hook: 'PREROUTING' | 'POSTROUTING' | 'OUTPUT' | 'INPUT'; outDev: NetDev | null },
) => { kind: NatKind; range: NatRange } | null;

export function range(p: Partial<NatRange> & { minIp?: number; maxIp?: number }): NatRange {
  const minIp = p.minIp ?? 0;
  return {
    minIp,
    maxIp: p.maxIp ?? minIp,
    minPort: p.minPort ?? 0,
    maxPort: p.maxPort ?? p.minPort ?? 0,
    mapIps: p.mapIps ?? minIp !== 0,
    mapPorts: p.mapPorts ?? (p.minPort ?? 0) !== 0,
    random: p.random ?? false,
    randomFully: p.randomFully ?? false,
    persistent: p.persistent ?? false,
  };
}

/**
 * A router namespace with two devices, forwarding between them the way ip_forward does: PREROUTING (conntrack,
 * nat), TTL decrement, POSTROUTING (nat, confirm). `dnat` and `snat` play the nat table's PREROUTING and
 * POSTROUTING chains. Time is set by the caller.
 */
export class Router {
  readonly kernel = new Kernel({ seed: 7 });
  readonly ns: NetNs;
  readonly ct: Conntrack;
  readonly devs: Record<string, NetDev> = {};
  t: Nanos = 0;
  dnat: NatRule = () => null;
  snat: NatRule = () => null;

  constructor(devs: Record<string, string>, seed = 11) {
    this.ns = this.kernel.addNetns('r');
    for (const [name, cidr] of Object.entries(devs)) {
      const d = createDummy(this.ns, name);
      const [a, l] = cidr.split('/');
      addAddr(this.ns, d, ip(a!), Number(l));
      this.devs[name] = d;
    }
    this.ct = new Conntrack({ now: () => this.t, rng: new Rng(seed) });
  }

  /** Forwards `skb` from `inDev` to `outDev`; returns the conntrack result and the verdict. */
  forward(skb: Skb, inDev: string, outDev: string): { res: CtResult; verdict: 'accept' | 'drop'; why?: string } {
    const out = this.devs[outDev]!;
    const res = this.ct.inPacket(skb, skb.nh, 'PREROUTING', this.devs[inDev]!);
    const pre = this.natHook(skb, 'PREROUTING', null);
    if (pre) return { res, verdict: 'drop', why: pre };
    ipDecreaseTtl(skb.buf, skb.nh);
    const post = this.natHook(skb, 'POSTROUTING', out);
    if (post) return { res, verdict: 'drop', why: post };
    if (this.ct.confirm(skb) === 'drop') return { res, verdict: 'drop', why: 'confirm' };
    return { res, verdict: 'accept' };
  }

  private natHook(skb: Skb, hook: 'PREROUTING' | 'POSTROUTING', outDev: NetDev | null): string | null {
    if (this.ct.natRulesWanted(skb, hook)) {
      const rule = (hook === 'PREROUTING' ? this.dnat : this.snat)(skb, { hook, outDev });
      if (rule) {
        const dst = readU32At(skb.buf, skb.nh + 16);
        const v = this.ct.setupNat(skb.ext.ct!, rule.kind, rule.range, { hook, ns: this.ns, outDev, nextHop: dst });
        if (v === 'drop') return `${rule.kind} drop`;
      }
    }
    const r = this.ct.natPacket(skb, hook, outDev);
    return r.verdict === 'drop' ? (r.reason ?? 'nat drop') : null;
  }
}
