// The packet the netfilter benchmarks push through a node's hooks: a bare IPv4 + TCP header (no payload, no link
// header, as the IP layer hands it to PREROUTING) to destination port 80, with valid checksums.

import type { NetNs } from '../src/netns/netns.js';
import { Skb } from '../src/netns/skb.js';
import { emitIpv4Header, IPPROTO_TCP } from '../src/wire/ipv4.js';
import { emitTcpHeader } from '../src/wire/tcp.js';

/** A 40-byte TCP segment from `src:sport` to `dst:80` with `flags`, its network header at the buffer's head. */
export function tcpPacket(ns: NetNs, src: number, sport: number, dst: number, flags: number): Skb {
  const skb = Skb.alloc(ns.kernel.nextPktId(), 40);
  skb.nh = skb.head;
  emitIpv4Header(skb.buf, skb.nh, {
    tos: 0,
    totalLength: 40,
    id: 0,
    df: true,
    mf: false,
    fragOffset: 0,
    ttl: 64,
    protocol: IPPROTO_TCP,
    src,
    dst,
    options: new Uint8Array(0),
  });
  emitTcpHeader(
    skb.buf,
    skb.nh + 20,
    { srcPort: sport, dstPort: 80, seq: 1, ack: 0, flags, window: 64240, options: {} },
    0,
    src,
    dst,
  );
  return skb;
}
