// What the NAT hooks do with each packet (nf_nat_ipv4_fn / nf_nat_inet_fn / nf_nat_packet). An ICMP error
// RELATED to a connection is translated directly, never shown to the nat table. A NEW packet whose connection has
// no binding yet for this hook's manip traverses the nat chain (natRulesWanted); if no rule bound it, it gets a
// null binding. Then every packet — NEW, ESTABLISHED, in either direction — is rewritten when the connection's
// binding requires it at this hook: destination at PREROUTING/OUTPUT for the original direction and source at
// POSTROUTING/INPUT, the reverse mapping for replies. A masqueraded connection whose packets now leave through
// another device is killed and the packet dropped (nf_nat_oif_changed).

import type { NfHook } from '../../netns/hooks.js';
import type { NetDev } from '../../netns/netdev.js';
import type { Skb } from '../../netns/skb.js';
import { formatIpv4, readU16, readU32 } from '../../wire/addr.js';
import { IPPROTO_ICMP, ipTotalLen } from '../../wire/ipv4.js';
import type { DirIndex } from './conn.js';
import type { Conntrack } from './conntrack.js';
import { allocNullBinding, natInitialized } from './nat_core.js';
import { icmpReplyTranslation, natManipPacket } from './nat_manip.js';
import { hookManip } from './nat_range.js';
import { hasPorts } from './tuple.js';

export interface NatPacketResult {
  verdict: 'accept' | 'drop';
  /** The rewrite done, for tracing: `10.0.0.1:40000` → `192.168.1.10:40000`. */
  rewrite?: { what: 'SNAT' | 'DNAT'; from: string; to: string; icmpError: boolean };
  /** Why the packet is dropped. */
  reason?: string;
}

/** Whether the nat table must be traversed for this packet at this hook before `natPacket`. */
export function natRulesWanted(ct: Conntrack, skb: Skb, hook: NfHook): boolean {
  const ext = skb.ext;
  if (ext.ctTable !== ct || !ext.ct) return false;
  if (ext.ctState === 'RELATED' && skb.buf[skb.nh + 9] === IPPROTO_ICMP) return false;
  if (ext.ctState !== 'NEW' && ext.ctState !== 'RELATED') return false;
  return !natInitialized(ext.ct, hookManip(hook));
}

export function natPacket(ct: Conntrack, skb: Skb, hook: NfHook, outDev: NetDev | null): NatPacketResult {
  const ext = skb.ext;
  if (ext.ctTable !== ct || !ext.ct) return { verdict: 'accept' };
  const conn = ext.ct;
  const dir: DirIndex = ext.ctDir === 'REPLY' ? 1 : 0;
  const manip = hookManip(hook);
  const b = skb.buf;
  const nh = skb.nh;
  const end = Math.min(skb.end, nh + ipTotalLen(b, nh));
  const what = manip === 'SRC' ? 'SNAT' : 'DNAT';

  if (ext.ctState === 'RELATED' && b[nh + 9] === IPPROTO_ICMP) {
    const before = describe(b, nh, manip);
    if (!icmpReplyTranslation(b, nh, end, conn, dir, manip))
      return { verdict: 'drop', reason: 'ICMP error about a NATed connection could not be translated' };
    const after = describe(b, nh, manip);
    return before === after
      ? { verdict: 'accept' }
      : { verdict: 'accept', rewrite: { what, from: before, to: after, icmpError: true } };
  }

  if (ext.ctState === 'NEW' || ext.ctState === 'RELATED') {
    if (!natInitialized(conn, manip)) {
      if (allocNullBinding(ct, conn, manip) !== 'accept')
        return { verdict: 'drop', reason: 'NAT binding already set up' };
    } else if (oifChanged(hook, dir, conn.masqIndex, outDev)) {
      ct.kill(conn);
      return { verdict: 'drop', reason: 'masqueraded connection now leaves through another device' };
    }
  } else if (oifChanged(hook, dir, conn.masqIndex, outDev)) {
    ct.kill(conn);
    return { verdict: 'drop', reason: 'masqueraded connection now leaves through another device' };
  }

  // nf_nat_packet: which status bit makes this hook rewrite this direction.
  const s = conn.status;
  const applies = dir === 0 ? (manip === 'SRC' ? s.srcNat : s.dstNat) : manip === 'SRC' ? s.dstNat : s.srcNat;
  if (!applies) return { verdict: 'accept' };
  const from = describe(b, nh, manip);
  if (!natManipPacket(b, nh, end, conn, dir, manip)) return { verdict: 'drop', reason: 'packet too short to rewrite' };
  return { verdict: 'accept', rewrite: { what, from, to: describe(b, nh, manip), icmpError: false } };
}

function oifChanged(hook: NfHook, dir: DirIndex, masqIndex: number, outDev: NetDev | null): boolean {
  return hook === 'POSTROUTING' && dir === 0 && masqIndex !== 0 && outDev !== null && outDev.ifindex !== masqIndex;
}

/** The endpoint this hook's manip touches, read from the bytes. */
function describe(b: Uint8Array, nh: number, manip: 'SRC' | 'DST'): string {
  const off = manip === 'SRC' ? 12 : 16;
  const a = formatIpv4(readU32(b, nh + off));
  const proto = b[nh + 9]!;
  if (!hasPorts(proto) || (b[nh + 6]! & 0x1f) !== 0 || b[nh + 7] !== 0) return a;
  const th = nh + (b[nh]! & 0x0f) * 4;
  return `${a}:${readU16(b, th + (manip === 'SRC' ? 0 : 2))}`;
}
