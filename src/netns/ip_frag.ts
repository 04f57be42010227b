// IPv4 fragmentation (ip_do_fragment) and reassembly (ip_defrag / inet_frag queues). Fragments carry payload in
// multiples of 8 bytes; reassembly keys on (source, destination, id, protocol) and gives up after ipfrag_time (30 s),
// answering ICMP time exceeded (fragment reassembly) when the first fragment had arrived.
// Limits: IP options are copied into every fragment (the kernel copies only those with the copy bit); overlapping
// fragments are resolved by keeping the first bytes received rather than RFC 5722's discard.

import { writeU16 } from '../wire/addr.js';
import { ICMP_EXC_FRAGTIME, ICMP_TIME_EXCEEDED } from '../wire/icmp.js';
import {
  IP_MF,
  ipDst,
  ipFillChecksum,
  ipFragOffset,
  ipHeaderLen,
  ipId,
  ipMf,
  ipProto,
  ipSrc,
  ipTotalLen,
} from '../wire/ipv4.js';
import { icmpSend } from './icmp.js';
import type { NetNs } from './netns.js';
import { SKB_HEADROOM, Skb } from './skb.js';

export const IPFRAG_TIME_NS = 30e9;

export function ipFragment(ns: NetNs, skb: Skb, mtu: number): Skb[] {
  const b = skb.buf;
  const nh = skb.nh;
  const hlen = ipHeaderLen(b, nh);
  const total = ipTotalLen(b, nh);
  const chunk = Math.floor((mtu - hlen) / 8) * 8;
  const baseOff = ipFragOffset(b, nh);
  const lastHadMf = ipMf(b, nh);
  const out: Skb[] = [];
  const tr = ns.kernel.tracer;
  if (tr.tracing) tr.emit(ns.name, skb.id, 'stage', { stage: 'ipFragment', detail: `${total} bytes into mtu ${mtu}` });
  for (let off = 0; off < total - hlen; off += chunk) {
    const n = Math.min(chunk, total - hlen - off);
    const f = new Skb(skb.id, new Uint8Array(SKB_HEADROOM + hlen + n), SKB_HEADROOM, SKB_HEADROOM + hlen + n);
    f.nh = f.head;
    f.buf.set(b.subarray(nh, nh + hlen), f.nh);
    f.buf.set(b.subarray(nh + hlen + off, nh + hlen + off + n), f.nh + hlen);
    const more = off + n < total - hlen || lastHadMf;
    writeU16(f.buf, f.nh + 2, hlen + n);
    writeU16(f.buf, f.nh + 6, ((baseOff + off) >> 3) | (more ? IP_MF : 0));
    ipFillChecksum(f.buf, f.nh);
    f.inDev = skb.inDev;
    f.mark = skb.mark;
    f.ext = { ...skb.ext };
    f.hops = skb.hops;
    // ip_copy_metadata → skb_copy_hash: every fragment keeps the flow hash (one VXLAN source port for all).
    f.hash = skb.hash;
    out.push(f);
  }
  return out;
}

interface FragQueue {
  parts: { off: number; data: Uint8Array }[];
  header: Uint8Array | null;
  totalPayload: number | null;
  first: Skb | null;
  timerGen: number;
}

const queues = new WeakMap<NetNs, Map<string, FragQueue>>();

/** ip_defrag: returns the reassembled packet (skb.nh at its IP header) when complete, else null. */
export function ipDefrag(ns: NetNs, skb: Skb): Skb | null {
  const b = skb.buf;
  const nh = skb.nh;
  const key = `${ipSrc(b, nh)}>${ipDst(b, nh)}#${ipId(b, nh)}/${ipProto(b, nh)}`;
  let m = queues.get(ns);
  if (!m) {
    m = new Map();
    queues.set(ns, m);
  }
  let q = m.get(key);
  if (!q) {
    q = { parts: [], header: null, totalPayload: null, first: null, timerGen: 0 };
    m.set(key, q);
    const gen = q.timerGen;
    const queue = q;
    const map = m;
    ns.kernel.queue.schedule(IPFRAG_TIME_NS, () => {
      if (map.get(key) !== queue || queue.timerGen !== gen) return;
      map.delete(key);
      if (queue.first) icmpSend(ns, queue.first, ICMP_TIME_EXCEEDED, ICMP_EXC_FRAGTIME, 0);
    });
  }
  const hlen = ipHeaderLen(b, nh);
  const off = ipFragOffset(b, nh);
  const len = ipTotalLen(b, nh) - hlen;
  q.parts.push({ off, data: b.slice(nh + hlen, nh + hlen + len) });
  if (off === 0) {
    q.header = b.slice(nh, nh + hlen);
    q.first = skb;
  }
  if (!ipMf(b, nh)) q.totalPayload = off + len;
  if (q.header === null || q.totalPayload === null) return null;
  const covered = new Uint8Array(q.totalPayload);
  const payload = new Uint8Array(q.totalPayload);
  for (const p of q.parts) {
    for (let i = 0; i < p.data.length && p.off + i < q.totalPayload; i++) {
      if (!covered[p.off + i]) {
        covered[p.off + i] = 1;
        payload[p.off + i] = p.data[i]!;
      }
    }
  }
  if (covered.includes(0)) return null;
  m.delete(key);
  q.timerGen++;
  const h = q.header;
  const whole = Skb.alloc(skb.id, h.length + payload.length);
  whole.nh = whole.head;
  whole.buf.set(h, whole.nh);
  whole.buf.set(payload, whole.nh + h.length);
  writeU16(whole.buf, whole.nh + 2, h.length + payload.length);
  writeU16(whole.buf, whole.nh + 6, (whole.buf[whole.nh + 6]! & 0x40) << 8);
  ipFillChecksum(whole.buf, whole.nh);
  whole.dev = skb.dev;
  whole.inDev = skb.inDev;
  whole.pktType = skb.pktType;
  whole.mark = skb.mark;
  whole.ext = { ...skb.ext };
  return whole;
}
