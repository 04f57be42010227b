// Entry filters of the conntrack tool (`conntrack -L/-D` options): protocol, addresses and ports of either
// tuple (-s/--orig-src, -d/--orig-dst, -r/--reply-src, -q/--reply-dst, --sport/--dport, --reply-port-src/dst),
// TCP state, mark (value/mask), and --src-nat/--dst-nat [IP[:port]] with filter_nat's meaning: the entry is
// source-NATed (its reply goes to another address or port than the original came from), optionally to that
// address (the reply's destination); destination-NATed, optionally to that address (the reply's source).
// kube-proxy clears stale UDP entries with `-D -p udp --orig-dst VIP` and `--dst-nat endpointIP`.

import type { Ipv4 } from '../../wire/addr.js';
import type { Conn } from './conn.js';

export interface NatFilter {
  addr?: Ipv4;
  port?: number;
}

export interface CtFilter {
  proto?: number;
  origSrc?: Ipv4;
  origDst?: Ipv4;
  replySrc?: Ipv4;
  replyDst?: Ipv4;
  /** --sport/--orig-port-src and --dport/--orig-port-dst. */
  origSport?: number;
  origDport?: number;
  replySport?: number;
  replyDport?: number;
  /** TCP state name (--state ESTABLISHED). */
  state?: string;
  mark?: { value: number; mask: number };
  srcNat?: NatFilter;
  dstNat?: NatFilter;
  /** --any-nat: source or destination NATed (to the address given, if any). */
  anyNat?: NatFilter;
}

function isSnat(c: Conn): boolean {
  return c.status.srcNatDone && c.reply.dst !== c.original.src;
}

function isSpat(c: Conn): boolean {
  return c.status.srcNatDone && c.reply.dport !== c.original.sport;
}

function isDnat(c: Conn): boolean {
  return c.status.dstNatDone && c.reply.src !== c.original.dst;
}

function isDpat(c: Conn): boolean {
  return c.status.dstNatDone && c.reply.sport !== c.original.dport;
}

/** One side of filter_nat. */
function hasNat(c: Conn, f: NatFilter, src: boolean): boolean {
  const addrNat = src ? isSnat(c) : isDnat(c);
  const portNat = src ? isSpat(c) : isDpat(c);
  const natAddr = src ? c.reply.dst : c.reply.src;
  const natPort = src ? c.reply.dport : c.reply.sport;
  let has = false;
  if (f.addr !== undefined) has = addrNat && natAddr === f.addr;
  if (f.port !== undefined) {
    const portOk = portNat && natPort === f.port;
    if (f.addr !== undefined && has && !portOk) has = false;
    if (f.addr === undefined && portOk) has = true;
  }
  if (f.addr === undefined && f.port === undefined && (addrNat || portNat)) has = true;
  return has;
}

export function ctFilterMatches(c: Conn, f: CtFilter): boolean {
  const o = c.original;
  const r = c.reply;
  if (f.proto !== undefined && o.proto !== f.proto) return false;
  if (f.origSrc !== undefined && o.src !== f.origSrc) return false;
  if (f.origDst !== undefined && o.dst !== f.origDst) return false;
  if (f.replySrc !== undefined && r.src !== f.replySrc) return false;
  if (f.replyDst !== undefined && r.dst !== f.replyDst) return false;
  if (f.origSport !== undefined && o.sport !== f.origSport) return false;
  if (f.origDport !== undefined && o.dport !== f.origDport) return false;
  if (f.replySport !== undefined && r.sport !== f.replySport) return false;
  if (f.replyDport !== undefined && r.dport !== f.replyDport) return false;
  if (f.state !== undefined && c.tcpState !== f.state) return false;
  if (f.mark !== undefined && (c.mark & f.mark.mask) >>> 0 !== f.mark.value >>> 0) return false;
  if (f.anyNat !== undefined) return hasNat(c, f.anyNat, true) || hasNat(c, f.anyNat, false);
  if (f.srcNat !== undefined && !hasNat(c, f.srcNat, true)) return false;
  if (f.dstNat !== undefined && !hasNat(c, f.dstNat, false)) return false;
  return true;
}
