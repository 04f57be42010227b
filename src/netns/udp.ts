// UDP (net/ipv4/udp.c): checksum verification, delivery to a bound socket, ICMP port unreachable when nothing is
// bound (never for broadcast), and ICMP errors reported to the connected client socket. Servers here are bound to a
// port (optionally an address) and answer each datagram with their configured payload using an unconnected
// sendto: the reply's source address is therefore chosen by routing, as it would be for a real server bound to
// 0.0.0.0 without IP_PKTINFO. Client sockets are connected, so they accept replies only from their peer. A datagram
// for an encapsulation socket (VXLAN) goes to its encap_rcv once the checksum is verified (udp_queue_rcv_one_skb).

import type { Nanos } from '../sim/events.js';
import { formatIpv4, type Ipv4, readU16 } from '../wire/addr.js';
import { ICMP_DEST_UNREACH, ICMP_PORT_UNREACH } from '../wire/icmp.js';
import { IPPROTO_UDP, ipDst, ipSrc, ipTotalLen } from '../wire/ipv4.js';
import { emitUdpHeader, UDP_HLEN, udpChecksumOk } from '../wire/udp.js';
import { dropSkb } from './dev.js';
import { icmpSend } from './icmp.js';
import { allocIpPacket, ipLocalOut, traceRoute } from './ip_output.js';
import type { NetNs } from './netns.js';
import { icmpErrorName, Probe, strerror } from './probe.js';
import { ipRouteOutput } from './route.js';
import type { Skb } from './skb.js';

const text = new TextDecoder();

export function udpSend(
  ns: NetNs,
  src: Ipv4 | null,
  sport: number,
  dst: Ipv4,
  dport: number,
  payload: Uint8Array,
): string | null {
  const rt = ipRouteOutput(ns, dst, src);
  if (typeof rt === 'string') return rt;
  const skb = allocIpPacket(ns, { src: rt.src, dst, protocol: IPPROTO_UDP, df: true }, UDP_HLEN + payload.length);
  skb.buf.set(payload, skb.th + UDP_HLEN);
  emitUdpHeader(skb.buf, skb.th, sport, dport, UDP_HLEN + payload.length, rt.src, dst);
  traceRoute(ns, skb, dst, rt);
  ipLocalOut(ns, skb, rt);
  return null;
}

export function udpRcv(ns: NetNs, skb: Skb, broadcast: boolean): void {
  const b = skb.buf;
  const th = skb.th;
  const src = ipSrc(b, skb.nh);
  const dst = ipDst(b, skb.nh);
  const len = ipTotalLen(b, skb.nh) - (th - skb.nh);
  if (len < UDP_HLEN || readU16(b, th + 4) > len || readU16(b, th + 4) < UDP_HLEN) {
    dropSkb(ns, skb, 'IP_INHDR', 'bad UDP length');
    return;
  }
  if (!udpChecksumOk(b, th, src, dst)) {
    dropSkb(ns, skb, 'IP_INHDR', 'bad UDP checksum');
    return;
  }
  const sport = readU16(b, th);
  const dport = readU16(b, th + 2);
  const encap = ns.sockets.udpEncap.get(dport);
  if (encap) {
    encap(skb);
    return;
  }
  const ulen = readU16(b, th + 4);
  const data = b.slice(th + UDP_HLEN, th + ulen);
  const client = ns.sockets.udpClients.get(dport);
  const tr = ns.kernel.tracer;
  if (client && client.peer === src && client.peerPort === sport) {
    client.reply(skb, src, b[skb.nh + 8]!, data);
    return;
  }
  const l = ns.sockets.findListener('udp', dst, dport);
  if (l) {
    l.served++;
    if (tr.tracing)
      tr.emit(ns.name, skb.id, 'sock', {
        proto: 'udp',
        action: 'deliver',
        detail: `${data.length} bytes to :${dport} from ${formatIpv4(src)}:${sport}; answering ${l.reply.length} bytes`,
      });
    const err = udpSend(ns, l.addr === 0 ? null : l.addr, dport, src, sport, l.reply);
    if (err) dropSkb(ns, skb, 'NO_ROUTE', `cannot answer ${formatIpv4(src)}: ${err}`);
    return;
  }
  if (broadcast) {
    dropSkb(ns, skb, 'NO_SOCKET', `no socket on UDP port ${dport} (broadcast: no ICMP)`);
    return;
  }
  icmpSend(ns, skb, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0);
  dropSkb(ns, skb, 'NO_SOCKET', `no socket on UDP port ${dport}`);
}

/** A connected UDP client that sends one datagram and waits for one answer. */
export class UdpClient {
  readonly probe = new Probe();
  readonly port: number;

  constructor(
    private readonly ns: NetNs,
    readonly peer: Ipv4,
    readonly peerPort: number,
    private readonly payload: Uint8Array,
    private readonly src: Ipv4 | null,
    private readonly waitNs: Nanos,
  ) {
    this.port = ns.sockets.ephemeralPort('udp');
    ns.sockets.udpClients.set(this.port, this);
  }

  start(): Probe {
    const err = udpSend(this.ns, this.src, this.port, this.peer, this.peerPort, this.payload);
    if (err) {
      this.probe.line(`connect: ${strerror(err)}`);
      this.close({ result: 'unreachable' });
      return this.probe;
    }
    this.ns.kernel.queue.schedule(this.waitNs, () => this.close({ result: 'timeout' }));
    return this.probe;
  }

  reply(skb: Skb, from: Ipv4, ttl: number, data: Uint8Array): void {
    const tr = this.ns.kernel.tracer;
    if (tr.tracing)
      tr.emit(this.ns.name, skb.id, 'sock', {
        proto: 'udp',
        action: 'reply',
        detail: `${data.length} bytes from ${formatIpv4(from)}`,
      });
    this.probe.line(`received ${data.length} bytes from ${formatIpv4(from)}:${this.peerPort}`);
    this.close({ result: 'reachable', replyFrom: formatIpv4(from), replyTtl: ttl, replyPayload: text.decode(data) });
  }

  icmpError(from: Ipv4, ttl: number, type: number, code: number, _rest: number): void {
    const name = icmpErrorName(type, code);
    this.probe.line(`recv: ${name} from ${formatIpv4(from)}`);
    this.close({
      result: type === ICMP_DEST_UNREACH && code === ICMP_PORT_UNREACH ? 'refused' : 'unreachable',
      replyFrom: formatIpv4(from),
      replyTtl: ttl,
      icmp: name,
    });
  }

  private close(o: Parameters<Probe['finish']>[0]): void {
    if (this.probe.done) return;
    this.ns.sockets.udpClients.delete(this.port);
    this.probe.finish(o);
  }
}
