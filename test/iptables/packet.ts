// Builds real packets (Ethernet + IPv4 + TCP/UDP/ICMP bytes) and the PacketCtx a match or target sees for them, with
// a TargetEnv that records what targets ask for. Used by the match and target semantics tests.

import { argsOf } from '../../src/iptables/args.js';
import { parseIptablesArgs } from '../../src/iptables/command.js';
import { instantiate } from '../../src/iptables/rule-spec.js';
import type {
  CtDir,
  CtEntry,
  CtState,
  NatKind,
  NatRange,
  PacketCtx,
  RejectWith,
  Rule,
  TargetEnv,
} from '../../src/iptables/types.js';
import type { NfHook } from '../../src/netns/hooks.js';
import type { Kernel } from '../../src/netns/kernel.js';
import type { NetDev } from '../../src/netns/netdev.js';
import type { NetNs } from '../../src/netns/netns.js';
import { Skb } from '../../src/netns/skb.js';
import { Rng } from '../../src/sim/rng.js';
import { parseIpv4 } from '../../src/wire/addr.js';
import { emitEth } from '../../src/wire/ethernet.js';
import { emitIcmpHeader } from '../../src/wire/icmp.js';
import { emitIpv4Header } from '../../src/wire/ipv4.js';
import { emitTcpHeader, type TcpOptions, tcpOptionsLength } from '../../src/wire/tcp.js';
import { emitUdpHeader } from '../../src/wire/udp.js';
import { shellWords } from './helpers.js';

export const ip = (s: string): number => parseIpv4(s)!;

export interface PacketSpec {
  src?: string;
  dst?: string;
  proto?: 'tcp' | 'udp' | 'icmp' | number;
  sport?: number;
  dport?: number;
  /** TCP flags byte. */
  flags?: number;
  tcpOptions?: TcpOptions;
  seq?: number;
  ack?: number;
  icmpType?: number;
  icmpCode?: number;
  /** Echo id / sequence (or the 4 bytes after the ICMP checksum). */
  icmpRest?: number;
  /** Bytes to quote after an ICMP error header. */
  icmpQuote?: Uint8Array;
  ttl?: number;
  id?: number;
  df?: boolean;
  fragOffset?: number;
  payload?: number;
  macSrc?: number;
  macDst?: number;
  ipOptions?: Uint8Array;
}

/** An Ethernet frame with the given packet; `skb.nh` points at the IPv4 header. */
export function makeSkb(p: PacketSpec): Skb {
  const proto = p.proto === 'tcp' ? 6 : p.proto === 'udp' ? 17 : p.proto === 'icmp' ? 1 : (p.proto ?? 6);
  const payload = p.payload ?? 0;
  const opts = p.ipOptions ?? new Uint8Array(0);
  const ihl = 20 + ((opts.length + 3) & ~3);
  const l4 =
    proto === 6 ? 20 + optLen(p.tcpOptions) : proto === 17 ? 8 : proto === 1 ? 8 + (p.icmpQuote?.length ?? 0) : 0;
  const total = ihl + l4 + payload;
  const skb = Skb.alloc(1, 14 + total);
  const b = skb.buf;
  const eth = skb.head;
  emitEth(b, eth, { dst: p.macDst ?? 0x020000000001, src: p.macSrc ?? 0x0a0b0c0d0e0f, ethertype: 0x0800 });
  const nh = eth + 14;
  const src = ip(p.src ?? '10.0.0.1');
  const dst = ip(p.dst ?? '10.0.0.2');
  const th = nh + ihl;
  if (proto === 6) {
    emitTcpHeader(
      b,
      th,
      {
        srcPort: p.sport ?? 1234,
        dstPort: p.dport ?? 80,
        seq: p.seq ?? 1000,
        ack: p.ack ?? 0,
        flags: p.flags ?? 0x02,
        window: 64240,
        options: p.tcpOptions ?? {},
      },
      payload,
      src,
      dst,
    );
  } else if (proto === 17) {
    emitUdpHeader(b, th, p.sport ?? 1234, p.dport ?? 53, 8 + payload, src, dst);
  } else if (proto === 1) {
    if (p.icmpQuote) b.set(p.icmpQuote, th + 8);
    emitIcmpHeader(b, th, p.icmpType ?? 8, p.icmpCode ?? 0, p.icmpRest ?? 0x00010001, l4 + payload);
  }
  emitIpv4Header(b, nh, {
    tos: 0,
    totalLength: total,
    id: p.id ?? 4242,
    df: p.df ?? true,
    mf: false,
    fragOffset: p.fragOffset ?? 0,
    ttl: p.ttl ?? 64,
    protocol: proto,
    src,
    dst,
    options: opts,
  });
  skb.nh = nh;
  skb.th = th;
  return skb;
}

function optLen(o: TcpOptions | undefined): number {
  return o ? tcpOptionsLength(o) : 0;
}

export interface Recorded {
  nat: { kind: NatKind; range: NatRange }[];
  reject: RejectWith[];
  log: { prefix: string; text: string }[];
  trace: number;
  notrack: number;
}

export interface CtxOptions {
  ns: NetNs;
  hook?: NfHook;
  inDev?: NetDev | null;
  outDev?: NetDev | null;
  physIn?: NetDev | null;
  physOut?: NetDev | null;
  bridged?: boolean;
  ct?: CtEntry | null;
  ctState?: CtState;
  ctDir?: CtDir;
  now?: number;
  rng?: Rng;
  natAnswer?: 'accept' | 'drop';
}

/** The context of `skb` in `o.ns`, fields parsed from the bytes as the engine parses them. */
export function makeCtx(skb: Skb, o: CtxOptions): PacketCtx & { rec: Recorded; env: TargetEnv & { now: number } } {
  const b = skb.buf;
  const nh = skb.nh;
  const proto = b[nh + 9]!;
  const th = nh + (b[nh]! & 15) * 4;
  const frag = ((b[nh + 6]! << 8) | b[nh + 7]!) & 0x1fff;
  const rec: Recorded = { nat: [], reject: [], log: [], trace: 0, notrack: 0 };
  const env = {
    rng: o.rng ?? new Rng(7),
    now: o.now ?? 0,
    nat(kind: NatKind, range: NatRange) {
      rec.nat.push({ kind, range });
      return o.natAnswer ?? 'accept';
    },
    reject(kind: RejectWith) {
      rec.reject.push(kind);
    },
    log(prefix: string, text: string) {
      rec.log.push({ prefix, text });
    },
    trace() {
      rec.trace++;
    },
    notrack() {
      rec.notrack++;
    },
  };
  if (o.inDev) skb.dev = o.inDev;
  const u16 = (at: number): number => (b[at]! << 8) | b[at + 1]!;
  const ports = proto === 6 || proto === 17;
  return {
    ns: o.ns,
    skb,
    hook: o.hook ?? 'INPUT',
    table: 'filter',
    inDev: o.inDev ?? null,
    outDev: o.outDev ?? null,
    physIn: o.physIn ?? null,
    physOut: o.physOut ?? null,
    bridged: o.bridged ?? false,
    proto,
    src: ((b[nh + 12]! << 24) | (b[nh + 13]! << 16) | (b[nh + 14]! << 8) | b[nh + 15]!) >>> 0,
    dst: ((b[nh + 16]! << 24) | (b[nh + 17]! << 16) | (b[nh + 18]! << 8) | b[nh + 19]!) >>> 0,
    sport: ports ? u16(th) : proto === 1 ? u16(th + 4) : 0,
    dport: ports ? u16(th + 2) : 0,
    tcpFlags: proto === 6 ? b[th + 13]! : 0,
    icmpType: proto === 1 ? b[th]! : -1,
    icmpCode: proto === 1 ? b[th + 1]! : -1,
    fragment: frag !== 0,
    len: u16(nh + 2),
    ct: o.ct ?? null,
    ctState: o.ctState ?? (o.ct ? 'ESTABLISHED' : 'INVALID'),
    ctDir: o.ctDir ?? 'ORIGINAL',
    env,
    rec,
  };
}

/** The rules an iptables command line appends (parsed, not committed). */
export function rulesOf(line: string): Rule[] {
  const c = parseIptablesArgs(argsOf(shellWords(line)));
  if (c.cmd.op !== 'append') throw new Error('need -A');
  return instantiate(c.cmd.rule);
}

export function ruleOf(line: string): Rule {
  return rulesOf(line)[0]!;
}

/** Whether every match of `rule` matches `ctx` (the built-in part is the engine's). */
export function allMatch(rule: Rule, ctx: PacketCtx): boolean {
  return rule.matches.every((m) => m.matches(ctx));
}

export function conntrackEntry(o: Partial<CtEntry> & { proto?: number } = {}): CtEntry {
  return {
    id: 1,
    original: o.original ?? { proto: o.proto ?? 6, src: ip('10.0.0.1'), dst: ip('10.96.0.10'), sport: 1234, dport: 80 },
    reply: o.reply ?? { proto: o.proto ?? 6, src: ip('10.244.1.5'), dst: ip('10.0.0.1'), sport: 8080, dport: 1234 },
    status: o.status ?? {
      confirmed: true,
      seenReply: false,
      assured: false,
      srcNat: false,
      dstNat: false,
      srcNatDone: false,
      dstNatDone: false,
    },
    mark: o.mark ?? 0,
    timeoutAt: o.timeoutAt ?? 120e9,
  };
}

export type { Kernel };
